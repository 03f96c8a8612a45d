// Command ttycall is a terminal video-call client that speaks the QuickBlox SDKs' call
// signaling over XMPP.
//
//	ttycall [--config FILE]             the terminal interface
//	ttycall headless [flags]            audio-only (or --video) mode for scripts and bots
//	ttycall devices                     list cameras and microphones
//	ttycall demo                        a local server, an echo bot, and the interface
//	ttycall quickblox whoami            check a [quickblox] config: sign in, print the user
//
// main parses the subcommand and hands over; it has no logic of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/headless"
	"github.com/ttycall/ttycall/internal/app"
	"github.com/ttycall/ttycall/internal/demo"
	"github.com/ttycall/ttycall/ui"
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// --version works after any subcommand too (ttycall headless --version).
	for _, a := range args {
		if a == "--version" || a == "-version" {
			printVersion(stdout)
			return 0
		}
	}
	if len(args) > 0 {
		switch args[0] {
		case "headless":
			return headless.Main(ctx, args[1:], stdin, stdout, stderr)
		case "demo":
			return demo.Main(ctx, args[1:], stdout, stderr)
		case "devices":
			return listDevices(stdout)
		case "quickblox":
			return app.QuickBloxMain(ctx, args[1:], stdout, stderr)
		case "version":
			printVersion(stdout)
			return 0
		}
	}

	fs := flag.NewFlagSet("ttycall", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage:
  ttycall [--config FILE] [--log FILE]   the terminal interface
  ttycall headless [flags]               audio-only (or --video) mode for scripts and bots; -h for its flags
  ttycall devices                        list cameras and microphones
  ttycall demo                           a local server, an echo bot, and the interface
  ttycall quickblox whoami [--config F]  sign in to your QuickBlox application and print who you are
  ttycall version                        version, module and the libvpx/libopus linked (--version works anywhere)

Flags of the interface:
`)
		fs.PrintDefaults()
	}
	cfgPath := fs.String("config", "", "config file (default "+config.DefaultPath()+")")
	logPath := fs.String("log", "", "log file (default in the user's state directory)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 { // a mistyped subcommand must not start the interface
		fmt.Fprintf(stderr, "ttycall: unknown command %q (headless, demo, devices, quickblox, version)\n", fs.Arg(0))
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, "ttycall:", err)
		return 2
	}
	for _, w := range cfg.Warnings { // before the interface takes the screen
		fmt.Fprintln(stderr, "ttycall:", w)
	}
	if err := ui.Run(ctx, cfg, *logPath); err != nil {
		fmt.Fprintln(stderr, "ttycall:", err)
		return 1
	}
	return 0
}

func listDevices(w io.Writer) int {
	found := map[devices.Kind]bool{}
	for _, d := range devices.List() {
		fmt.Fprintf(w, "%-6s %-40s %s\n", d.Kind, d.ID, d.Label)
		if d.ID != devices.SourceTest {
			found[d.Kind] = true
		}
	}
	// The synthetic sources are always listed: say plainly when nothing real was.
	if !found[devices.KindVideo] {
		fmt.Fprintln(w, "no camera found: calls send the test pattern (camera = \"test\")")
	}
	if !found[devices.KindAudio] {
		fmt.Fprintln(w, "no microphone found: calls send the test tone (microphone = \"test\")")
	}
	return 0
}

// printVersion prints the build's version, its module and commit, and the codec
// libraries linked in.
func printVersion(w io.Writer) {
	mod, rev := "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		mod = bi.Main.Path + " " + bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = ", commit " + s.Value[:12]
			}
		}
		mod += rev + ", " + bi.GoVersion
	}
	vpx, opus := devices.CodecVersions()
	fmt.Fprintf(w, "ttycall %s (%s)\nlibvpx %s\n%s\n", version, mod, vpx, opus)
}
