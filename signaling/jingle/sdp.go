package jingle

// The translation between SDP (what pion's and a browser's WebRTC speak) and Jingle (what
// goes on the wire), one media section per content, written from the XEPs and checked
// against StanzaJS's stanzas (testdata/stanzajs-*.xml): the content name is the a=mid;
// senders is the direction seen from the party that wrote the description; ICE
// credentials, fingerprints and candidates go in the transport; BUNDLE in a group.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Role is a party of a Jingle session.
type Role string

// The two roles of a session.
const (
	Initiator Role = "initiator"
	Responder Role = "responder"
)

// Other is the other party's role.
func (r Role) Other() Role {
	if r == Initiator {
		return Responder
	}
	return Initiator
}

// sendersOf turns an SDP direction written by writer into Jingle senders.
func sendersOf(writer Role, direction string) string {
	switch direction {
	case "sendonly":
		return string(writer)
	case "recvonly":
		return string(writer.Other())
	case "inactive":
		return "none"
	}
	return "both"
}

// directionOf turns Jingle senders into the SDP direction seen from writer.
func directionOf(writer Role, senders string) string {
	switch senders {
	case "", "both":
		return "sendrecv"
	case "none":
		return "inactive"
	case string(writer):
		return "sendonly"
	}
	return "recvonly"
}

// FromSDP translates a description written by writer into Jingle contents (creator
// initiator: in a call only the initiator creates contents) and groups.
func FromSDP(raw string, writer Role) ([]Content, []Group, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(raw); err != nil {
		return nil, nil, fmt.Errorf("%w: sdp: %v", ErrSDP, err)
	}
	if len(sd.MediaDescriptions) > MaxContents {
		return nil, nil, fmt.Errorf("%w: %d media sections", ErrTooBig, len(sd.MediaDescriptions))
	}
	sessUfrag, _ := sd.Attribute("ice-ufrag")
	sessPwd, _ := sd.Attribute("ice-pwd")
	sessFP, _ := sd.Attribute("fingerprint")
	sessSetup, _ := sd.Attribute("setup")
	var contents []Content
	for i, md := range sd.MediaDescriptions {
		c, setup, err := contentFromMedia(md, i, writer)
		if err != nil {
			return nil, nil, err
		}
		t := c.Transport
		if t.Ufrag == "" {
			t.Ufrag, t.Pwd = sessUfrag, sessPwd
		}
		if len(t.Fingerprints) == 0 && sessFP != "" {
			if setup == "" {
				setup = sessSetup
			}
			fp, err := parseFingerprint(sessFP, setup)
			if err != nil {
				return nil, nil, err
			}
			t.Fingerprints = []Fingerprint{fp}
		}
		contents = append(contents, c)
	}
	var groups []Group
	for _, a := range sd.Attributes {
		if a.Key != "group" {
			continue
		}
		f := strings.Fields(a.Value)
		if len(f) == 0 {
			continue
		}
		g := Group{Semantics: f[0]}
		for _, n := range f[1:] {
			g.Contents = append(g.Contents, ContentRef{Name: n})
		}
		groups = append(groups, g)
	}
	j := Jingle{Action: SessionInitiate, SID: "x", Contents: contents, Groups: groups}
	if err := j.Check(); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrSDP, err)
	}
	return contents, groups, nil
}

// contentFromMedia translates one media section; setup is its a=setup, for a
// fingerprint at session level (pion writes it there).
func contentFromMedia(md *sdp.MediaDescription, index int, writer Role) (c Content, setup string, err error) {
	kind := md.MediaName.Media
	if kind != "audio" && kind != "video" {
		return Content{}, "", fmt.Errorf("%w: %s media section", ErrSDP, kind)
	}
	if md.MediaName.Port.Value == 0 {
		return Content{}, "", fmt.Errorf("%w: rejected %s media section", ErrSDP, kind)
	}
	d := &Description{Media: kind}
	t := &Transport{}
	c = Content{Creator: string(Initiator), Name: strconv.Itoa(index), Description: d, Transport: t}
	byID := map[uint8]*PayloadType{}
	for _, f := range md.MediaName.Formats {
		id, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			return Content{}, "", fmt.Errorf("%w: payload type %q", ErrSDP, f)
		}
		if _, dup := byID[uint8(id)]; dup {
			continue
		}
		d.PayloadTypes = append(d.PayloadTypes, PayloadType{ID: uint8(id), Channels: 1})
		byID[uint8(id)] = nil
	}
	for i := range d.PayloadTypes {
		byID[d.PayloadTypes[i].ID] = &d.PayloadTypes[i]
	}
	pt := func(s string) (*PayloadType, error) {
		id, err := strconv.ParseUint(s, 10, 7)
		if err != nil || byID[uint8(id)] == nil {
			return nil, fmt.Errorf("%w: attribute for payload type %q not in the m= line", ErrSDP, s)
		}
		return byID[uint8(id)], nil
	}
	direction := "sendrecv"
	sources := map[string]int{} // ssrc -> index in d.Sources
	for _, a := range md.Attributes {
		switch a.Key {
		case "mid":
			c.Name = a.Value
		case "sendrecv", "sendonly", "recvonly", "inactive":
			direction = a.Key
		case "rtcp-mux":
			d.RTCPMux = &Empty{}
		case "rtcp-rsize":
			d.ReducedSize = &Empty{}
		case "extmap-allow-mixed":
			d.ExtmapMixed = &Empty{}
		case "rtpmap":
			id, rest, _ := strings.Cut(a.Value, " ")
			p, err := pt(id)
			if err != nil {
				return Content{}, "", err
			}
			parts := strings.Split(rest, "/")
			p.Name = parts[0]
			if len(parts) > 1 {
				v, err := strconv.ParseUint(parts[1], 10, 32)
				if err != nil {
					return Content{}, "", fmt.Errorf("%w: rtpmap %q", ErrSDP, a.Value)
				}
				p.ClockRate = uint32(v)
			}
			if len(parts) > 2 {
				v, err := strconv.ParseUint(parts[2], 10, 8)
				if err != nil || v == 0 {
					return Content{}, "", fmt.Errorf("%w: rtpmap %q", ErrSDP, a.Value)
				}
				p.Channels = uint8(v)
			}
		case "fmtp":
			id, rest, _ := strings.Cut(a.Value, " ")
			p, err := pt(id)
			if err != nil {
				return Content{}, "", err
			}
			for _, kv := range strings.Split(rest, ";") {
				kv = strings.TrimSpace(kv)
				if kv == "" {
					continue
				}
				k, v, _ := strings.Cut(kv, "=")
				p.Params = append(p.Params, Parameter{Name: k, Value: v})
			}
		case "rtcp-fb":
			id, rest, _ := strings.Cut(a.Value, " ")
			typ, sub, _ := strings.Cut(rest, " ")
			fb := RTCPFB{Type: typ, Subtype: sub}
			if id == "*" {
				d.RTCPFB = append(d.RTCPFB, fb)
				continue
			}
			p, err := pt(id)
			if err != nil {
				return Content{}, "", err
			}
			p.RTCPFB = append(p.RTCPFB, fb)
		case "extmap":
			f := strings.Fields(a.Value)
			if len(f) < 2 {
				return Content{}, "", fmt.Errorf("%w: extmap %q", ErrSDP, a.Value)
			}
			idText, dir, _ := strings.Cut(f[0], "/")
			id, err := strconv.ParseUint(idText, 10, 16)
			if err != nil {
				return Content{}, "", fmt.Errorf("%w: extmap %q", ErrSDP, a.Value)
			}
			h := HdrExt{ID: uint16(id), URI: f[1]}
			if dir != "" && dir != "sendrecv" {
				h.Senders = sendersOf(writer, dir)
			}
			d.HdrExts = append(d.HdrExts, h)
		case "ssrc":
			ssrc, rest, _ := strings.Cut(a.Value, " ")
			if _, err := strconv.ParseUint(ssrc, 10, 32); err != nil {
				return Content{}, "", fmt.Errorf("%w: ssrc %q", ErrSDP, a.Value)
			}
			i, ok := sources[ssrc]
			if !ok {
				i = len(d.Sources)
				sources[ssrc] = i
				d.Sources = append(d.Sources, Source{SSRC: ssrc})
			}
			if rest != "" {
				k, v, _ := strings.Cut(rest, ":")
				d.Sources[i].Params = append(d.Sources[i].Params, Parameter{Name: k, Value: v})
			}
		case "ssrc-group":
			f := strings.Fields(a.Value)
			if len(f) < 1 {
				return Content{}, "", fmt.Errorf("%w: ssrc-group %q", ErrSDP, a.Value)
			}
			g := SourceGroup{Semantics: f[0]}
			for _, s := range f[1:] {
				g.Sources = append(g.Sources, SourceRef{SSRC: s})
			}
			d.SourceGroups = append(d.SourceGroups, g)
		case "msid":
			id, track, _ := strings.Cut(a.Value, " ")
			d.Streams = append(d.Streams, Stream{ID: id, Track: track})
		case "ice-ufrag":
			t.Ufrag = a.Value
		case "ice-pwd":
			t.Pwd = a.Value
		case "setup":
			setup = a.Value
		case "fingerprint":
			fp, err := parseFingerprint(a.Value, "")
			if err != nil {
				return Content{}, "", err
			}
			t.Fingerprints = append(t.Fingerprints, fp)
		case "candidate":
			cand, err := ParseCandidate(a.Value)
			if err != nil {
				return Content{}, "", err
			}
			t.Candidates = append(t.Candidates, cand)
		}
		if len(t.Candidates) > MaxCandidates || len(d.Sources) > MaxSources {
			return Content{}, "", fmt.Errorf("%w: %d candidates, %d sources", ErrTooBig, len(t.Candidates), len(d.Sources))
		}
	}
	for i := range t.Fingerprints {
		t.Fingerprints[i].Setup = setup
	}
	if len(d.Sources) > 0 {
		d.SSRC = d.Sources[0].SSRC
	}
	c.Senders = sendersOf(writer, direction)
	return c, setup, nil
}

func parseFingerprint(v, setup string) (Fingerprint, error) {
	hash, value, ok := strings.Cut(v, " ")
	if !ok || hash == "" || value == "" {
		return Fingerprint{}, fmt.Errorf("%w: fingerprint %q", ErrSDP, v)
	}
	return Fingerprint{Hash: hash, Value: value, Setup: setup}, nil
}

// ParseCandidate parses an ICE candidate attribute value ("candidate:..." or without the
// prefix), as in SDP and in WebRTC's ICECandidateInit.Candidate.
func ParseCandidate(v string) (Candidate, error) {
	v = strings.TrimPrefix(strings.TrimPrefix(v, "a="), "candidate:")
	f := strings.Fields(v)
	if len(f) < 8 || f[6] != "typ" {
		return Candidate{}, fmt.Errorf("%w: candidate %q", ErrSDP, v)
	}
	comp, err1 := strconv.ParseUint(f[1], 10, 16)
	prio, err2 := strconv.ParseUint(f[3], 10, 32)
	port, err3 := strconv.ParseUint(f[5], 10, 16)
	if err1 != nil || err2 != nil || err3 != nil || comp == 0 {
		return Candidate{}, fmt.Errorf("%w: candidate %q", ErrSDP, v)
	}
	c := Candidate{Foundation: f[0], Component: uint16(comp), Protocol: strings.ToLower(f[2]),
		Priority: uint32(prio), IP: f[4], Port: uint16(port), Type: f[7]}
	for i := 8; i+1 < len(f); i += 2 {
		k, val := f[i], f[i+1]
		switch k {
		case "raddr":
			c.RelAddr = val
		case "rport":
			p, err := strconv.ParseUint(val, 10, 16)
			if err != nil {
				return Candidate{}, fmt.Errorf("%w: candidate %q", ErrSDP, v)
			}
			c.RelPort = uint16(p)
		case "tcptype":
			c.TCPType = val
		case "generation":
			g, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return Candidate{}, fmt.Errorf("%w: candidate %q", ErrSDP, v)
			}
			c.Generation = uint32(g)
		case "network-id":
			n, err := strconv.ParseUint(val, 10, 32)
			if err == nil {
				c.Network = uint32(n)
			}
		}
	}
	return c, nil
}

// SDP writes the candidate as an attribute value ("candidate:...", no "a=").
func (c Candidate) SDP() string {
	var b strings.Builder
	fmt.Fprintf(&b, "candidate:%s %d %s %d %s %d typ %s", c.Foundation, c.Component, c.Protocol, c.Priority, c.IP, c.Port, c.Type)
	if c.RelAddr != "" {
		fmt.Fprintf(&b, " raddr %s rport %d", c.RelAddr, c.RelPort)
	}
	if c.TCPType != "" {
		fmt.Fprintf(&b, " tcptype %s", c.TCPType)
	}
	fmt.Fprintf(&b, " generation %d", c.Generation)
	return b.String()
}

// token refuses a value that would split an SDP field (a space) or be empty.
func token(what, s string) error {
	if s == "" || strings.ContainsAny(s, " \t") {
		return fmt.Errorf("%w: %s %q", ErrSDP, what, s)
	}
	return nil
}

// ToSDP writes the contents and groups, written by writer, as an SDP for pion or a
// browser (CRLF line ends). Every content needs an RTP description and a transport with
// ICE credentials and a fingerprint.
func ToSDP(contents []Content, groups []Group, writer Role) (string, error) {
	if len(contents) == 0 {
		return "", fmt.Errorf("%w: no contents", ErrSDP)
	}
	var b strings.Builder
	line := func(format string, a ...any) {
		fmt.Fprintf(&b, format, a...)
		b.WriteString("\r\n")
	}
	line("v=0")
	line("o=- 0 2 IN IP4 127.0.0.1")
	line("s=-")
	line("t=0 0")
	for _, g := range groups {
		if err := token("group semantics", g.Semantics); err != nil {
			return "", err
		}
		names := []string{g.Semantics}
		for _, c := range g.Contents {
			if err := token("group content", c.Name); err != nil {
				return "", err
			}
			names = append(names, c.Name)
		}
		line("a=group:%s", strings.Join(names, " "))
	}
	for _, c := range contents {
		if err := writeMedia(line, c, writer); err != nil {
			return "", fmt.Errorf("content %q: %w", c.Name, err)
		}
	}
	return b.String(), nil
}

func writeMedia(line func(string, ...any), c Content, writer Role) error {
	d, t := c.Description, c.Transport
	if d == nil || t == nil {
		return fmt.Errorf("%w: no RTP description or ICE-UDP transport", ErrSDP)
	}
	if d.Media != "audio" && d.Media != "video" {
		return fmt.Errorf("%w: media %q", ErrSDP, d.Media)
	}
	if len(d.PayloadTypes) == 0 {
		return fmt.Errorf("%w: no payload types", ErrSDP)
	}
	if err := token("content name", c.Name); err != nil {
		return err
	}
	if err := token("ufrag", t.Ufrag); err != nil {
		return err
	}
	if err := token("pwd", t.Pwd); err != nil {
		return err
	}
	if len(t.Fingerprints) == 0 {
		return fmt.Errorf("%w: no fingerprint", ErrSDP)
	}
	ids := make([]string, 0, len(d.PayloadTypes))
	for _, p := range d.PayloadTypes {
		ids = append(ids, strconv.Itoa(int(p.ID)))
	}
	line("m=%s 9 UDP/TLS/RTP/SAVPF %s", d.Media, strings.Join(ids, " "))
	line("c=IN IP4 0.0.0.0")
	line("a=rtcp:9 IN IP4 0.0.0.0")
	line("a=ice-ufrag:%s", t.Ufrag)
	line("a=ice-pwd:%s", t.Pwd)
	setup := ""
	for _, f := range t.Fingerprints {
		if err := token("fingerprint hash", f.Hash); err != nil {
			return err
		}
		if err := token("fingerprint", strings.TrimSpace(f.Value)); err != nil {
			return err
		}
		line("a=fingerprint:%s %s", f.Hash, strings.TrimSpace(f.Value))
		if setup == "" {
			setup = f.Setup
		}
	}
	if setup != "" {
		line("a=setup:%s", setup)
	}
	line("a=mid:%s", c.Name)
	for _, h := range d.HdrExts {
		if err := token("header extension", h.URI); err != nil {
			return err
		}
		if h.Senders != "" && h.Senders != "both" {
			line("a=extmap:%d/%s %s", h.ID, directionOf(writer, h.Senders), h.URI)
		} else {
			line("a=extmap:%d %s", h.ID, h.URI)
		}
	}
	if d.ExtmapMixed != nil {
		line("a=extmap-allow-mixed")
	}
	line("a=%s", directionOf(writer, c.Senders))
	for _, s := range d.Streams {
		if err := token("msid", s.ID); err != nil {
			return err
		}
		if s.Track != "" {
			if err := token("msid track", s.Track); err != nil {
				return err
			}
			line("a=msid:%s %s", s.ID, s.Track)
		} else {
			line("a=msid:%s", s.ID)
		}
	}
	if d.RTCPMux != nil {
		line("a=rtcp-mux")
	}
	if d.ReducedSize != nil {
		line("a=rtcp-rsize")
	}
	for _, f := range d.RTCPFB {
		if err := writeFB(line, "*", f); err != nil {
			return err
		}
	}
	for _, p := range d.PayloadTypes {
		if err := token("codec", p.Name); err != nil {
			return err
		}
		if p.Channels > 1 {
			line("a=rtpmap:%d %s/%d/%d", p.ID, p.Name, p.ClockRate, p.Channels)
		} else {
			line("a=rtpmap:%d %s/%d", p.ID, p.Name, p.ClockRate)
		}
		for _, f := range p.RTCPFB {
			if err := writeFB(line, strconv.Itoa(int(p.ID)), f); err != nil {
				return err
			}
		}
		if len(p.Params) > 0 {
			kv := make([]string, 0, len(p.Params))
			for _, x := range p.Params {
				if x.Name == "" || strings.ContainsAny(x.Name, "; =\t") || strings.ContainsAny(x.Value, "; \t") {
					return fmt.Errorf("%w: codec parameter %q=%q", ErrSDP, x.Name, x.Value)
				}
				if x.Value == "" {
					kv = append(kv, x.Name)
				} else {
					kv = append(kv, x.Name+"="+x.Value)
				}
			}
			line("a=fmtp:%d %s", p.ID, strings.Join(kv, ";"))
		}
	}
	for _, g := range d.SourceGroups {
		f := []string{g.Semantics}
		for _, s := range g.Sources {
			f = append(f, s.SSRC)
		}
		for _, x := range f {
			if err := token("ssrc-group", x); err != nil {
				return err
			}
		}
		line("a=ssrc-group:%s", strings.Join(f, " "))
	}
	for _, s := range d.Sources {
		if _, err := strconv.ParseUint(s.SSRC, 10, 32); err != nil {
			return fmt.Errorf("%w: ssrc %q", ErrSDP, s.SSRC)
		}
		if len(s.Params) == 0 {
			line("a=ssrc:%s", s.SSRC)
		}
		for _, x := range s.Params {
			if err := token("ssrc attribute", x.Name); err != nil {
				return err
			}
			if strings.Contains(x.Name, ":") {
				return fmt.Errorf("%w: ssrc attribute %q", ErrSDP, x.Name)
			}
			if x.Value == "" {
				line("a=ssrc:%s %s", s.SSRC, x.Name)
			} else {
				line("a=ssrc:%s %s:%s", s.SSRC, x.Name, x.Value)
			}
		}
	}
	for _, cand := range t.Candidates {
		if err := cand.check(); err != nil {
			return err
		}
		line("a=%s", cand.SDP())
	}
	return nil
}

func writeFB(line func(string, ...any), id string, f RTCPFB) error {
	if err := token("rtcp-fb", f.Type); err != nil {
		return err
	}
	if f.Subtype != "" {
		if err := token("rtcp-fb subtype", f.Subtype); err != nil {
			return err
		}
		line("a=rtcp-fb:%s %s %s", id, f.Type, f.Subtype)
	} else {
		line("a=rtcp-fb:%s %s", id, f.Type)
	}
	return nil
}

// check refuses a candidate whose fields would not survive an SDP line.
func (c Candidate) check() error {
	for what, s := range map[string]string{"foundation": c.Foundation, "protocol": c.Protocol, "ip": c.IP, "type": c.Type} {
		if err := token("candidate "+what, s); err != nil {
			return err
		}
	}
	if c.RelAddr != "" {
		if err := token("candidate raddr", c.RelAddr); err != nil {
			return err
		}
	}
	if c.TCPType != "" {
		if err := token("candidate tcptype", c.TCPType); err != nil {
			return err
		}
	}
	if c.Component == 0 {
		return fmt.Errorf("%w: candidate component 0", ErrSDP)
	}
	return nil
}
