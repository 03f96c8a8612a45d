// Package headless is ttycall's mode for scripts and bots: no TUI, audio only unless
// --video, events as JSON lines on stdout and commands as lines on stdin.
//
// The interface (flags, event names and fields, commands, exit codes) is fixed: scripts
// and the interop tests drive it. See issue 7 and README.md.
package headless

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/internal/app"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitUsage       = 2 // usage or config error
	ExitLogin       = 3 // login failed
	ExitNotAnswered = 4 // the placed call was rejected or not answered
	ExitRecord      = 6 // --record with --exit-on-close: the recording failed
)

// Main runs `ttycall headless ARGS` and returns the exit code. ctx ends on SIGINT or
// SIGTERM: every call is hung up and Main returns 0.
//
// A stdout pipe whose reader has gone also ends it with 0 after hanging up: SIGPIPE is
// ignored so that the write fails instead of killing the process mid-call.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	signal.Ignore(syscall.SIGPIPE)
	o, err := ParseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		fmt.Fprintln(stderr, "ttycall headless:", err)
		return ExitUsage
	}
	level, err := app.ParseLevel(o.LogLevel)
	if err != nil {
		fmt.Fprintln(stderr, "ttycall headless:", err)
		return ExitUsage
	}
	log, logCloser, err := app.OpenLog(o.LogFile, level, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ttycall headless:", err)
		return ExitUsage
	}
	defer logCloser.Close()

	cfg, err := config.Load(o.Config)
	if err != nil {
		fmt.Fprintln(stderr, "ttycall headless:", err)
		return ExitUsage
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "ttycall headless:", w)
		log.Warn(w)
	}
	if err := checkFiles(o); err != nil {
		fmt.Fprintln(stderr, "ttycall headless:", err)
		return ExitUsage
	}
	if o.Play != "" {
		cfg.Media.Microphone = o.Play
	}
	out := newEmitter(stdout)
	if o.Room != "" {
		return runRoom(ctx, o, cfg, stdin, out, log)
	}
	a, err := app.New(cfg, app.Options{Echo: o.Echo, Logger: log,
		// A device that fails mid-call is replaced (test pattern, silence): say so.
		OnMediaNotice: func(n string) { out.errorf("", "", "media: "+n) },
		// QuickBlox mode signs in before anything else; SIGINT ends a retrying sign-in.
		Context: ctx,
		OnSignInRetry: func(err error, retryIn time.Duration) {
			out.errorf("", "", fmt.Sprintf("%v; retrying in %s", err, retryIn.Round(time.Millisecond)))
		},
	})
	if err != nil {
		out.close(time.Second)
		fmt.Fprintln(stderr, "ttycall headless:", err)
		if errors.Is(err, app.ErrLogin) {
			return ExitLogin
		}
		if ctx.Err() != nil {
			return ExitOK
		}
		return ExitUsage
	}
	callIDs, err := a.ParseUserIDs(o.Call)
	if err != nil {
		a.Close()
		out.close(time.Second)
		fmt.Fprintln(stderr, "ttycall headless: --call:", err)
		return ExitUsage
	}
	r := newRunner(o, a, out, log)
	r.callAtStart = callIDs
	return r.run(ctx, stdin)
}

// checkFiles checks the files the flags name, at start: found missing only when a call
// opens the microphone or the first remote audio arrives, they would fail that call
// instead of the command line.
func checkFiles(o *Options) error {
	if o.Play != "" {
		f, err := os.Open(o.Play)
		if err != nil {
			return fmt.Errorf("--play: %w", err)
		}
		f.Close()
	}
	if o.RecordDir != "" {
		if st, err := os.Stat(o.RecordDir); err != nil || !st.IsDir() {
			return fmt.Errorf("--record-dir: no directory %s", o.RecordDir)
		}
	}
	if o.Record != "" { // the file itself is made at the first remote audio
		if st, err := os.Stat(filepath.Dir(o.Record)); err != nil || !st.IsDir() {
			return fmt.Errorf("--record: no directory %s", filepath.Dir(o.Record))
		}
		if _, err := os.Lstat(o.Record); err == nil && !o.Overwrite {
			return fmt.Errorf("--record: %s exists (add --overwrite to replace it)", o.Record)
		}
	}
	return nil
}

// discard is a logger for tests that pass none.
var discard = slog.New(slog.DiscardHandler)
