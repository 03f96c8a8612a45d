package headless

import (
	"fmt"
	"strings"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/devices"
)

// Command is one parsed stdin line.
type Command struct {
	Name    string // accept, reject, hangup, update, mute, unmute, call, quit
	Session string // accept/reject/hangup: an optional session ID
	// Ext: update's pairs, or accept/reject/hangup's extension (nil when none given:
	// the --ext of the command line then applies to accept).
	Ext  call.Extension
	Kind devices.Kind
	IDs  []string
	Type call.CallType // call: CallTypeUnknown when not given
}

// ParseCommand reads one stdin line. An empty line gives a nil command and no error.
func ParseCommand(line string) (*Command, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil, nil
	}
	c := &Command{Name: f[0]}
	args := f[1:]
	switch c.Name {
	case "accept", "reject", "hangup":
		// [SESSION] [k=v ...], as the API's accept/reject/stop(extension): a token with
		// '=' is a pair, never a session ID.
		for i, a := range args {
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				if i > 0 {
					return nil, fmt.Errorf("%s: want [SESSION] [k=v ...], got %q after the session or a pair", c.Name, a)
				}
				c.Session = a
				continue
			}
			if k == "" {
				return nil, fmt.Errorf("%s: want k=v, got %q", c.Name, a)
			}
			if c.Ext == nil {
				c.Ext = call.Extension{}
			}
			c.Ext[k] = v
		}
	case "quit":
		if len(args) > 0 {
			return nil, fmt.Errorf("quit takes no arguments")
		}
	case "update":
		if len(args) == 0 {
			return nil, fmt.Errorf("update: want k=v ...")
		}
		c.Ext = call.Extension{}
		for _, a := range args {
			k, v, ok := strings.Cut(a, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("update: want k=v, got %q", a)
			}
			c.Ext[k] = v
		}
	case "mute", "unmute":
		if len(args) != 1 {
			return nil, fmt.Errorf("%s: want audio or video", c.Name)
		}
		switch args[0] {
		case "audio":
			c.Kind = devices.KindAudio
		case "video":
			c.Kind = devices.KindVideo
		default:
			return nil, fmt.Errorf("%s: want audio or video, got %q", c.Name, args[0])
		}
	case "call":
		if len(args) < 1 || len(args) > 2 {
			return nil, fmt.Errorf("call: want ID[,ID...] [audio|video]")
		}
		c.IDs = splitIDs(args[0])
		if len(c.IDs) == 0 {
			return nil, fmt.Errorf("call: no user ID")
		}
		if len(args) == 2 {
			switch args[1] {
			case "audio":
				c.Type = call.CallTypeAudio
			case "video":
				c.Type = call.CallTypeVideo
			default:
				return nil, fmt.Errorf("call: want audio or video, got %q", args[1])
			}
		}
	default:
		return nil, fmt.Errorf("unknown command %q", c.Name)
	}
	return c, nil
}
