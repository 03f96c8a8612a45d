package main

import (
	"os/exec"
	"strings"
	"testing"
)

// goList runs `go list` with a format over packages.
func goList(t *testing.T, format string, pkgs ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-f", format}, pkgs...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return strings.Fields(string(out))
}

// TestLayering keeps the architecture honest: the engine, the XMPP account and the
// media layer know nothing of the terminal, and the UI never talks to pion itself.
func TestLayering(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	const mod = "github.com/ttycall/ttycall/"
	headlessParts := []string{mod + "call/...", mod + "chat/...", mod + "devices/...", mod + "config/...", mod + "internal/app/...", mod + "headless/..."}
	for _, dep := range goList(t, `{{join .Deps "\n"}}`, headlessParts...) {
		if strings.HasPrefix(dep, "charm.land/") || strings.HasPrefix(dep, "github.com/charmbracelet/") {
			t.Errorf("engine/account/media/headless depend on the terminal UI package %s", dep)
		}
	}
	for _, line := range goList(t, `{{.ImportPath}}:{{join .Imports ","}}`, mod+"ui/...") {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Split(imports, ",") {
			if strings.HasPrefix(imp, "github.com/pion/") {
				t.Errorf("%s imports %s: the UI must reach media through call and devices", pkg, imp)
			}
		}
	}
	for _, line := range goList(t, `{{.ImportPath}}:{{join .Imports ","}}`, mod+"call/...", mod+"devices/...") {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Split(imports, ",") {
			if strings.HasPrefix(imp, "mellium.im/xmpp") && imp != "mellium.im/xmpp/jid" {
				t.Errorf("%s imports %s: XMPP belongs to chat/ (call/ sees signals only)", pkg, imp)
			}
		}
	}
}

// TestInteropNotInProduct: the test scaffolding under interop/ (the QuickBlox REST
// stand-in) is imported by tests only, never by the product.
func TestInteropNotInProduct(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	const mod = "github.com/ttycall/ttycall/"
	for _, line := range goList(t, `{{.ImportPath}}:{{join .Imports ","}}`, "./...") {
		pkg, imports, _ := strings.Cut(line, ":")
		if strings.HasPrefix(pkg, mod+"interop") {
			continue
		}
		for _, imp := range strings.Split(imports, ",") {
			if strings.HasPrefix(imp, mod+"interop") {
				t.Errorf("%s imports the test scaffolding %s", pkg, imp)
			}
		}
	}
}

// TestEngineSpeaksNoProtocol: the engine depends on the neutral vocabulary (signaling)
// and on no protocol adapter or wire codec, and the adapters do not depend on the
// engine (so that the engine's tests run through a real adapter).
func TestEngineSpeaksNoProtocol(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	const mod = "github.com/ttycall/ttycall/"
	for _, dep := range goList(t, `{{join .Deps "\n"}}`, mod+"call") {
		if strings.HasPrefix(dep, mod+"signaling/") || strings.HasPrefix(dep, mod+"chat") {
			t.Errorf("call depends on %s: protocols belong to adapters under signaling/", dep)
		}
	}
	for _, dep := range goList(t, `{{join .Deps "\n"}}`, mod+"signaling/...") {
		if dep == mod+"call" {
			t.Errorf("an adapter under signaling/ depends on the engine")
		}
	}
}
