// Package ui is ttycall's terminal interface (Bubble Tea + lipgloss): contacts with
// presence, incoming calls, the call screen with video drawn in the terminal.
//
// app.go holds the root model and routes between the screens (contacts.go, incoming.go,
// call.go, history.go); signin.go stands in front of it while a QuickBlox sign-in waits;
// events.go is the one place where engine and account events become messages; keys.go
// and styles.go hold every binding and style. The package never
// imports the WebRTC stack: it sees the engine through call's public types and the Engine
// interface.
package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/app"
	"github.com/ttycall/ttycall/ui/video"
)

// Extra are optional settings of Run.
type Extra struct {
	// HelpNote is shown at start on the notice line and always in the help (?): the
	// demo's "To join as bob: …", which the alternate screen would otherwise hide.
	HelpNote string
}

// Run opens the interface and returns when the user quits.
func Run(ctx context.Context, cfg *config.Config, logPath string, extra ...Extra) error {
	if cfg == nil {
		return errors.New("ui: no configuration")
	}
	if logPath == "" {
		logPath = DefaultLogPath()
	}
	log, logCloser, err := app.OpenLog(logPath, slog.LevelInfo, io.Discard)
	if err != nil {
		return err
	}
	defer logCloser.Close()
	log = log.With("part", "ui")

	var notices []string
	out, outCloser, notice, err := devices.OpenPlayer("", log)
	if err != nil {
		log.Warn("no audio output", "err", err)
		out, outCloser = nil, nil
		notices = append(notices, "no audio output: "+err.Error())
	} else if notice != "" {
		notices = append(notices, notice)
	}
	if outCloser != nil {
		defer outCloser.Close()
	}

	// The stats overlay needs reports: the interface asks for them unless configured.
	c := *cfg
	if c.Calls.StatsReportTimeInterval <= 0 {
		c.Calls.StatsReportTimeInterval = defaultStatsInterval
	}
	cfg = &c

	mediaNotices := newNoticeBox()
	defer mediaNotices.close() // runs after the app's Close (wg.Wait below): no device posts any more
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var p *tea.Program // set before the sign-in can retry (it starts after NewProgram)
	opts := app.Options{DecodeVideo: true, Platform: "ttycall", Logger: log, OnMediaNotice: mediaNotices.post,
		// QuickBlox mode signs in first, with the interface open (signin.go): its status
		// line tells each failed attempt and counts down to the next.
		Context: ctx,
		OnSignInRetry: func(err error, retryIn time.Duration) {
			p.Send(signInRetryMsg{Err: err, RetryIn: retryIn})
		},
	}
	// Remote audio passes a meter on its way out: the audio call screen's levels.
	var meter *devices.Meter
	if out != nil {
		meter = devices.NewMeter(out)
		opts.AudioOutput = meter
	}
	// Without QuickBlox nothing is dialled before Run: a bad config is said before the
	// interface opens.
	var pre *app.App
	if !cfg.QuickBlox.Enabled {
		a, err := app.New(cfg, opts)
		if err != nil {
			return err
		}
		pre = a
	}

	// Video is written straight to the terminal by a video.Screen, through the same
	// locked writer as Bubble Tea (ui/video/README.md). Without a terminal there is no
	// video; the labels still show the states.
	tty := video.NewLockedWriter(os.Stdout)
	var scr *video.Screen
	kittyQuery := false
	if term.IsTerminal(os.Stdout.Fd()) {
		mode, err := video.ParseMode(cfg.UI.Render, os.Environ())
		if err != nil {
			log.Warn("render mode", "err", err)
			mode = video.DetectMode(os.Environ())
		}
		scr = video.NewScreen(tty, video.ScreenOptions{Mode: mode, MaxFPS: cfg.UI.MaxFPS})
		auto := cfg.UI.Render == "" || strings.EqualFold(cfg.UI.Render, "auto")
		kittyQuery = auto && mode != video.ModeKitty && mode != video.ModeASCII
		log.Info("video render mode", "mode", mode, "kitty_query", kittyQuery)
		if n := modeNotice(mode, auto); n != "" {
			notices = append(notices, n)
		}
	} else {
		log.Warn("output is not a terminal: no video")
	}
	// Conference rooms (r): left at the end whatever the screen was.
	var roomOut devices.AudioOutput
	if out != nil {
		roomOut = out
	}
	rooms := newRoomJoiner(cfg, roomOut, log)
	defer rooms.Close()
	// newModel builds the root model around a signed-in app.
	newModel := func(a *app.App) *Model {
		mo := Options{
			Account:     a.NamedAccount(), // QuickBlox users' full names on the contacts
			Engine:      NewEngine(a.Engine()),
			Config:      cfg,
			Self:        a.Account().JID().Bare().String(), // in QuickBlox mode learned at sign-in
			LogPath:     logPath,
			Logger:      log,
			HistoryPath: DefaultHistoryPath(),
			KittyQuery:  kittyQuery,
			Notices:     mediaNotices.ch,
			Rooms:       rooms,
		}
		if meter != nil {
			mo.Levels = func(id call.UserID) (float64, bool) { return meter.Level(string(id)) }
		}
		for _, e := range extra {
			mo.HelpNote = e.HelpNote
		}
		if scr != nil {
			mo.Video = scr
		}
		m := New(mo)
		start := notices
		if mo.HelpNote != "" {
			start = append(start[:len(start):len(start)], mo.HelpNote)
		}
		m.notice = strings.Join(start, "\n") // once, at start; the next key clears them
		return m
	}
	var first *Model
	if pre != nil {
		first = newModel(pre)
	}
	root := newSignIn(first, cfg.QuickBlox.APIEndpoint, cfg.Path)
	p = tea.NewProgram(root, tea.WithContext(ctx), tea.WithOutput(tty))

	// A panic in one of these goroutines stops the program like one in Bubble Tea's.
	var panicked atomic.Bool
	guard := func(what string, f func()) {
		defer func() {
			if r := recover(); r != nil {
				panicked.Store(true)
				log.Error("panic", "in", what, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				p.Kill()
			}
		}()
		f()
	}

	// The account goroutine owns the app: in QuickBlox mode it signs in first (until
	// ctx ends), hands the model its account and engine, then keeps the account online
	// until ctx ends (cancel below) or authentication fails; that end is reported to the
	// model, which quits with the error. It closes the app after ctx ended.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		guard("account", func() {
			a := pre
			if a == nil {
				var err error
				if a, err = app.New(cfg, opts); err != nil {
					if ctx.Err() == nil {
						log.Error("sign-in failed", "err", err)
					}
					p.Send(signInFailedMsg{Err: err})
					return
				}
				p.Send(signedInMsg{Model: newModel(a)})
			}
			defer func() {
				if err := a.Close(); err != nil {
					log.Warn("close", "err", err)
				}
			}()
			if err := a.Run(ctx); err != nil {
				p.Send(accountEndedMsg{Err: err})
			}
			<-ctx.Done() // the model quits with the error; the app closes after it
		})
	}()
	// The video screen draws until ctx ends (cancel below) or a write fails.
	if scr != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			guard("video", func() {
				if err := scr.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
					log.Warn("video stopped", "err", err)
				}
			})
		}()
	}

	runErr := runGuarded(p, logPath, log)
	cancel()
	wg.Wait()
	m := root.inner // nil when the user quit before the sign-in ended
	if panicked.Load() || (m != nil && m.crashed) || errors.Is(runErr, tea.ErrProgramPanic) {
		return crashError(logPath)
	}
	if m != nil && m.fatal != nil {
		return m.fatal
	}
	if m == nil && root.failed != nil {
		return root.failed // shown on the screen; said again where the shell can keep it
	}
	if runErr != nil && !(errors.Is(runErr, tea.ErrProgramKilled) && ctx.Err() != nil) {
		return fmt.Errorf("ui: %w", runErr)
	}
	return nil
}

// modeNotice says once that the video is drawn in fewer colours than the best mode,
// and how to change that; "" in the best modes or when the user chose the mode.
func modeNotice(mode video.Mode, auto bool) string {
	if !auto {
		return ""
	}
	switch mode {
	case video.ModeHalfBlock256:
		return "video in 256 colours: the terminal does not say it has truecolor (set COLORTERM=truecolor if it does)"
	case video.ModeASCII:
		return "video as text: this terminal has no colour graphics (TERM=" + os.Getenv("TERM") + ")"
	}
	return ""
}

// defaultStatsInterval is the stats report interval (seconds) when the config has none.
const defaultStatsInterval = 2

// DefaultLogPath is $XDG_STATE_HOME/ttycall/ttycall.log (~/.local/state when unset).
func DefaultLogPath() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(os.TempDir(), "ttycall.log")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "ttycall", "ttycall.log")
}
