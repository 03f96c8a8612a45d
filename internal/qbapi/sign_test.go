package qbapi

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// goldens is testdata/signatures.json, written by testdata/goldens.cjs from the SDK's
// own qbAuth.js and qbProxy.js.
type goldens struct {
	SDK        string `json:"sdk"`
	CryptoJS   string `json:"crypto_js"`
	ICEServers []struct {
		URLs       []string `json:"urls"`
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
	} `json:"ice_servers"`
	Endpoints struct{ API, Chat string } `json:"endpoints"`
	Cases     []struct {
		Name        string `json:"name"`
		AppID       int    `json:"app_id"`
		AuthKey     string `json:"auth_key"`
		AuthSecret  string `json:"auth_secret"`
		Hash        Hash   `json:"hash"`
		Login       string `json:"login"`
		Email       string `json:"email"`
		Password    string `json:"password"`
		Nonce       int    `json:"nonce"`
		Timestamp   int64  `json:"timestamp"`
		Signature   string `json:"signature"`
		Method      string `json:"method"`
		URL         string `json:"url"`
		ContentType string `json:"content_type"`
		Body        string `json:"body"`
	} `json:"cases"`
}

func readGoldens(t *testing.T) *goldens {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "signatures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g goldens
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("no cases in signatures.json")
	}
	return &g
}

// TestSignatureGoldens: the Go signer and body encoder give byte for byte what the web
// SDK's qbAuth.js and qbProxy.js gave for the same input: the application alone, a user
// by login and by email, sha256, and values with &, =, spaces, + and non-ASCII (one
// outside the BMP).
func TestSignatureGoldens(t *testing.T) {
	g := readGoldens(t)
	if g.SDK != "quickblox@2.23.0" || g.CryptoJS != "4.2.0" {
		t.Errorf("goldens from %s / crypto-js %s, want quickblox@2.23.0 / 4.2.0", g.SDK, g.CryptoJS)
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			r := SessionRequest{AppID: c.AppID, AuthKey: c.AuthKey, Nonce: c.Nonce, Timestamp: c.Timestamp,
				Login: c.Login, Email: c.Email, Password: c.Password}
			sig, err := r.Signature(c.AuthSecret, c.Hash)
			if err != nil {
				t.Fatal(err)
			}
			if sig != c.Signature {
				t.Errorf("signature %s, SDK %s (signed %q)", sig, c.Signature, r.SignatureString())
			}
			body, err := r.Body(c.AuthSecret, c.Hash)
			if err != nil {
				t.Fatal(err)
			}
			if body != c.Body {
				t.Errorf("body\n %s\nSDK\n %s", body, c.Body)
			}
			if c.Method != "POST" || c.URL != DefaultAPIEndpoint+"/session.json" {
				t.Errorf("SDK sent %s %s", c.Method, c.URL)
			}
		})
	}
}

// TestDefaultsMatchSDK: DefaultICEServers and the default endpoints are the SDK's
// qbConfig.js values.
func TestDefaultsMatchSDK(t *testing.T) {
	g := readGoldens(t)
	var got []ICEServer
	for _, s := range g.ICEServers {
		got = append(got, ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	if !reflect.DeepEqual(got, DefaultICEServers()) {
		t.Errorf("SDK ICE servers %+v, DefaultICEServers %+v", got, DefaultICEServers())
	}
	if "https://"+g.Endpoints.API != DefaultAPIEndpoint || g.Endpoints.Chat != DefaultChatEndpoint {
		t.Errorf("SDK endpoints %+v", g.Endpoints)
	}
	a, b := DefaultICEServers(), DefaultICEServers()
	a[0].URLs[0] = "changed"
	if b[0].URLs[0] == "changed" {
		t.Error("DefaultICEServers shares its slices between calls")
	}
}

// TestGoldensUpToDate re-runs goldens.cjs against the SDK in interop/web/node_modules and
// checks that the stored file is its output: the goldens are the SDK's, not edited.
func TestGoldensUpToDate(t *testing.T) {
	node, err := exec.LookPath("node")
	sdk := filepath.Join("..", "..", "interop", "web", "node_modules", "quickblox", "src", "modules", "qbAuth.js")
	if _, serr := os.Stat(sdk); err != nil || serr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node or %s missing (scripts/setup.sh installs them)", sdk)
		}
		t.Skip("node or interop/web/node_modules missing: run scripts/setup.sh")
	}
	out, err := exec.Command(node, filepath.Join("testdata", "goldens.cjs")).Output()
	if err != nil {
		t.Fatalf("goldens.cjs: %v", err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "signatures.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("testdata/signatures.json is not goldens.cjs's output; regenerate:\n  node internal/qbapi/testdata/goldens.cjs > internal/qbapi/testdata/signatures.json")
	}
}

func TestSortLikeJavaScript(t *testing.T) {
	// U+1F600 is a surrogate pair (0xD83D...) in UTF-16, below U+FF01: JavaScript sorts
	// it first, Go's byte order last.
	s := []string{"a=\uff01", "a=\U0001F600"}
	sortJS(s)
	if s[0] != "a=\U0001F600" {
		t.Errorf("sortJS = %q", s)
	}
	if got := encodeURIComponent("a-_.!~*'() &=+/?#@[]ü"); got != "a-_.!~*'()%20%26%3D%2B%2F%3F%23%40%5B%5D%C3%BC" {
		t.Errorf("encodeURIComponent = %s", got)
	}
}
