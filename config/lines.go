package config

import (
	"strings"
)

// keyLines maps the keys of a TOML file to their lines. BurntSushi/toml reports
// positions for syntax errors but not for keys it left undecoded or for values that
// parse yet fail validation, so this small scanner finds them itself. It understands
// tables, arrays of tables, dotted and quoted keys, comments and multi-line strings;
// keys inside inline tables are attributed to the line of the inline table.
type keyLines struct {
	entries []keyEntry
}

type keyEntry struct {
	key   string // dotted, without array indices
	index int    // which [[array table]] entry it is in (-1: none)
	line  int
	value string // raw value text (for scrubbing secrets out of parser messages)
}

func scanLines(data string) *keyLines {
	kl := &keyLines{}
	table, index := "", -1
	arrays := map[string]int{}
	inML := "" // closing delimiter of the multi-line string we are in
	for i, line := range strings.Split(data, "\n") {
		n := i + 1
		if inML != "" {
			if strings.Count(line, inML)%2 == 1 {
				inML = ""
			}
			continue
		}
		t := strings.TrimSpace(line)
		switch {
		case t == "" || t[0] == '#':
		case strings.HasPrefix(t, "[["):
			end := strings.Index(t, "]]")
			if end < 0 {
				continue
			}
			table = normKey(t[2:end])
			index = arrays[table]
			arrays[table]++
			kl.entries = append(kl.entries, keyEntry{key: table, index: index, line: n})
		case t[0] == '[':
			end := strings.Index(t, "]")
			if end < 0 {
				continue
			}
			table, index = normKey(t[1:end]), -1
			kl.entries = append(kl.entries, keyEntry{key: table, index: -1, line: n})
		default:
			eq := keyEnd(t)
			if eq < 0 {
				continue
			}
			key := normKey(t[:eq])
			if table != "" {
				key = table + "." + key
			}
			value := strings.TrimSpace(t[eq+1:])
			kl.entries = append(kl.entries, keyEntry{key: key, index: index, line: n, value: value})
			for _, d := range []string{`"""`, `'''`} {
				if strings.Count(value, d)%2 == 1 {
					inML = d
					break
				}
			}
		}
	}
	return kl
}

// keyEnd returns the index of the '=' that ends the key part of a key/value line,
// skipping quoted key parts.
func keyEnd(t string) int {
	var quote byte
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '=':
			return i
		}
	}
	return -1
}

// normKey turns ` a . "b" ` into `a.b`.
func normKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// line returns the line of key (within the index-th array table entry when index >= 0),
// falling back to the closest enclosing table; 0 when not found.
func (kl *keyLines) line(key string, index int) int {
	if kl == nil {
		return 0
	}
	for k := key; k != ""; {
		for _, e := range kl.entries {
			if e.key == k && (index < 0 || e.index == index || e.index < 0 && k != key) {
				return e.line
			}
		}
		dot := strings.LastIndex(k, ".")
		if dot < 0 {
			break
		}
		k = k[:dot]
	}
	return 0
}

// secretKey reports whether key holds a secret (or a command that may embed one).
func secretKey(key string) bool {
	switch key {
	case "account.password", "account.password_command", "ice.servers.credential",
		"quickblox.auth_secret", "quickblox.auth_secret_command", "quickblox.password",
		"quickblox.password_command", "quickblox.account_key":
		return true
	}
	return false
}

// secretLine reports whether line n sets a secret key.
func (kl *keyLines) secretLine(n int) bool {
	for _, e := range kl.entries {
		if e.line == n && secretKey(e.key) {
			return true
		}
	}
	return false
}

// secrets returns the raw values of the keys that hold secrets.
func (kl *keyLines) secrets() []string {
	var out []string
	for _, e := range kl.entries {
		if secretKey(e.key) {
			v := strings.Trim(e.value, `"' `)
			if v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// scrub removes secrets from a message that quotes the input.
func (kl *keyLines) scrub(msg string) string {
	if kl == nil {
		return msg
	}
	for _, s := range kl.secrets() {
		msg = strings.ReplaceAll(msg, s, "[redacted]")
	}
	return msg
}
