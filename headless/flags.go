package headless

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ttycall/ttycall/call"
)

// Answer is what to do with incoming calls.
type Answer string

// --answer values.
const (
	AnswerAuto   Answer = "auto"
	AnswerReject Answer = "reject"
	AnswerIgnore Answer = "ignore" // wait for a stdin command
)

// Options are the parsed command line.
type Options struct {
	Config    string
	Answer    Answer
	Call      []string // user IDs to call at start
	Video     bool
	Play      string
	Record    string
	Overwrite bool
	// RecordDir: one Ogg/Opus file per remote participant's audio stream in it.
	RecordDir   string
	Echo        bool
	HangupAfter time.Duration
	ExitOnClose bool
	Ext         call.Extension
	LogFile     string
	LogLevel    string
	// Room mode: join this Janus VideoRoom room instead of logging in to XMPP.
	Room   string
	Pin    string
	Create bool
	Stats  time.Duration
}

const usage = `Usage: ttycall headless [flags]

Events: one JSON object per line on stdout (time, event, session, user, ...): online,
offline, call, accept, reject, stop, user_not_answer, session_close, connection_state,
reconnect, remote_stream, stats, update, invalid_event, call_blocked (a call declined
without ringing: calls.accept_from), error.
Commands, one per line on stdin: accept|reject|hangup [SESSION] [k=v ...] (the pairs are
the extension sent; a word with = is never a session), update k=v ..., mute audio|video,
unmute audio|video, call ID[,ID...] [audio|video], quit.
Room mode (--room ID, the [conference] server of the config; no XMPP account needed):
events room_joined, participant_joined, participant_left, connection_state (per feed),
remote_stream, talking, slow_link, reconnect, stats, room_left; commands mute, unmute, quit.
Exit codes: 0 done (also on SIGINT/SIGTERM or when stdout's reader has gone, after
hanging up), 2 usage or config error (also: the --record file exists, without
--overwrite), 3 login failed, 4 the placed call was rejected or not answered, 5 the
room could not be joined (wrong pin, no such room, no server), 6 the recording failed
(a write error, with --record and --exit-on-close: the call is hung up).
Events wait for a slow stdout up to a limit, then are dropped and counted.

Flags:
`

// extFlag collects repeatable --ext k=v.
type extFlag struct{ ext call.Extension }

func (e *extFlag) String() string { return "" }

func (e *extFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want k=v, got %q", s)
	}
	e.ext[k] = v
	return nil
}

// ParseFlags reads the command line of `ttycall headless`. Errors are usage errors
// (exit 2), except flag.ErrHelp.
func ParseFlags(args []string, stderr io.Writer) (*Options, error) {
	o := &Options{Ext: call.Extension{}}
	fs := flag.NewFlagSet("ttycall headless", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.Config, "config", "", "config file (default: the user's config)")
	answer := fs.String("answer", string(AnswerIgnore), "incoming calls: auto, reject or ignore (wait for a stdin command)")
	callIDs := fs.String("call", "", "call ID[,ID...] at start (with [quickblox]: also logins, emails, full names)")
	fs.BoolVar(&o.Video, "video", false, "send and accept video (default: audio only)")
	fs.StringVar(&o.Play, "play", "", "WAV or Ogg/Opus file to send as the microphone")
	fs.StringVar(&o.Record, "record", "", "write the remote audio to this Ogg/Opus file, every participant of a group call mixed (created 0600; an existing file is refused)")
	fs.BoolVar(&o.Overwrite, "overwrite", false, "let --record replace an existing file")
	fs.StringVar(&o.RecordDir, "record-dir", "", "write each remote participant's audio to its own Ogg/Opus file in this directory (SESSION-USER.ogg)")
	fs.BoolVar(&o.Echo, "echo", false, "send back to each opponent what it sends")
	fs.DurationVar(&o.HangupAfter, "hangup-after", 0, "hang up a call this long after it was accepted (0: never)")
	fs.BoolVar(&o.ExitOnClose, "exit-on-close", false, "exit when the session closes")
	fs.Var(&extFlag{o.Ext}, "ext", "k=v sent as the extension of call and accept (repeatable)")
	fs.StringVar(&o.Room, "room", "", "join this conference room (Janus VideoRoom, [conference] in the config)")
	fs.StringVar(&o.Pin, "pin", "", "the room's pin (default: [conference] pin)")
	fs.BoolVar(&o.Create, "create", false, "create the room when it does not exist (default: [conference] create)")
	fs.DurationVar(&o.Stats, "stats", 0, "room mode: stats events this often (default: calls.stats_report_time_interval)")
	fs.StringVar(&o.LogFile, "log", "", "log file (default: stderr)")
	fs.StringVar(&o.LogLevel, "log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch a := Answer(*answer); a {
	case AnswerAuto, AnswerReject, AnswerIgnore:
		o.Answer = a
	default:
		return nil, fmt.Errorf("--answer: want auto, reject or ignore, got %q", *answer)
	}
	if *callIDs != "" {
		o.Call = splitIDs(*callIDs)
		if len(o.Call) == 0 {
			return nil, errors.New("--call: no user ID")
		}
	}
	if o.Room != "" && (len(o.Call) > 0 || o.Echo || o.Record != "") {
		return nil, errors.New("--room: not with --call, --echo or --record")
	}
	if o.Record != "" && o.RecordDir != "" {
		return nil, errors.New("--record and --record-dir: one or the other")
	}
	if o.Stats < 0 {
		return nil, errors.New("--stats: negative duration")
	}
	if o.HangupAfter < 0 {
		return nil, errors.New("--hangup-after: negative duration")
	}
	return o, nil
}

func splitIDs(s string) []string {
	var ids []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			ids = append(ids, p)
		}
	}
	return ids
}
