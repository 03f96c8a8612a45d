package video

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// LockedWriter is the terminal shared by Bubble Tea and a Screen: each Write goes
// out whole under a mutex, so a video frame never lands in the middle of a Bubble Tea
// frame and the reverse. Give the same LockedWriter to tea.WithOutput and NewScreen.
// It implements Bubble Tea's term.File (Read, Write, Close, Fd) so Bubble Tea still
// sees a terminal, sets raw mode and reads the size.
//
// Writes that are not the Screen's are scanned for erase sequences (ED, EL, ECH) and
// screen switches; such a write may have wiped video cells, so the Screen repaints
// its tiles fully on the next frame.
type LockedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	erased atomic.Bool // a foreign write may have erased video cells
	// left is set when a foreign write leaves the alternate screen (Bubble Tea
	// restoring the terminal, also after a panic) and cleared when one enters it:
	// video frames are dropped in between, so none lands on the user's shell.
	left atomic.Bool
}

// NewLockedWriter wraps w (normally os.Stdout).
func NewLockedWriter(w io.Writer) *LockedWriter { return &LockedWriter{w: w} }

// Write writes p whole under the lock (Bubble Tea's side). An erase is flagged once
// it is written, still under the lock: flagged before, a frame drawn between the flag
// and the write would take the flag, and the erase would then wipe that frame's
// cells with no repaint to follow.
func (l *LockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(p)
	if mayErase(p) {
		l.erased.Store(true)
		if i := bytes.LastIndex(p, []byte("\x1b[?1049")); i >= 0 && i+7 < len(p) {
			l.left.Store(p[i+7] == 'l')
		}
	}
	return n, err
}

// writeVideo writes a video frame (the Screen's side); it does not flag erasure.
// Frames are dropped while the alternate screen is left (see left).
func (l *LockedWriter) writeVideo(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left.Load() {
		return len(p), nil
	}
	return l.w.Write(p)
}

// takeErased reports and clears the erase flag.
func (l *LockedWriter) takeErased() bool { return l.erased.Swap(false) }

var errNotFile = errors.New("video: output is not a file")

// Read reads from the wrapped writer when it is also a reader (a tty is both).
func (l *LockedWriter) Read(p []byte) (int, error) {
	if r, ok := l.w.(io.Reader); ok {
		return r.Read(p)
	}
	return 0, errNotFile
}

// Close closes the wrapped writer when it is a Closer.
func (l *LockedWriter) Close() error {
	if c, ok := l.w.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Fd returns the wrapped file's descriptor (Bubble Tea uses it for raw mode and the
// size), or an invalid one when the writer is not a file.
func (l *LockedWriter) Fd() uintptr {
	if f, ok := l.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

var _ interface {
	io.ReadWriteCloser
	Fd() uintptr
} = (*LockedWriter)(nil)

// mayErase reports whether p holds a sequence that can blank cells outside what the
// writer itself draws: ED (CSI J), EL (CSI K), ECH (CSI X), DECSET/DECRST 1049/47
// (alternate screen). Bubble Tea never writes blanks into cells its view keeps blank
// other than with these.
func mayErase(p []byte) bool {
	for {
		i := bytes.Index(p, []byte("\x1b["))
		if i < 0 {
			return false
		}
		p = p[i+2:]
		j := 0
		for j < len(p) && (p[j] >= '0' && p[j] <= '9' || p[j] == ';' || p[j] == '?') {
			j++
		}
		if j == len(p) {
			return false
		}
		switch p[j] {
		case 'J', 'K', 'X':
			return true
		case 'h', 'l':
			if bytes.Equal(p[:j], []byte("?1049")) || bytes.Equal(p[:j], []byte("?47")) || bytes.Equal(p[:j], []byte("?1047")) {
				return true
			}
		}
		p = p[j:]
	}
}
