package devices

import (
	"fmt"
	"image"
	"sync"
)

// namedSource is what video and audio sources have in common.
type namedSource interface {
	Label() string
	Close() error
}

// failover holds a source that may fail while a call runs (a camera unplugged, a driver
// error, a camera that delivers no frame within its driver's read timeout) and its
// replacement. Without it the track's encoder would stop and peers would see the last
// frame frozen, with nothing telling the user why; with it they keep receiving a signal
// and the user gets a notice, as with a device missing at the start.
type failover[S namedSource] struct {
	mu     sync.Mutex
	cur    S    // guarded by mu
	failed bool // guarded by mu: cur is the replacement
	closed bool // guarded by mu

	// replace builds the replacement for a failed source; it returns the notice.
	replace func(failed S, err error) (S, string)
	notify  func(notice string)
}

func (f *failover[S]) current() S {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}

// fail is called by the reading goroutine when src returned err. It closes src and
// returns the replacement, or ok=false when the error stands: the failover is closing
// (a closed source returns an error by design) or the replacement failed too.
func (f *failover[S]) fail(src S, err error) (next S, ok bool) {
	f.mu.Lock()
	if f.closed || f.failed {
		f.mu.Unlock()
		return next, false
	}
	next, notice := f.replace(src, err)
	f.cur, f.failed = next, true
	f.mu.Unlock()
	_ = src.Close()
	if r, ok := any(src).(interface{ release() }); ok {
		r.release() // safe: the reading goroutine, the only user, is the caller
	}
	f.notify(notice)
	return next, true
}

func (f *failover[S]) Label() string { return f.current().Label() }

// Close closes the current source, which unblocks a read in progress.
func (f *failover[S]) Close() error {
	f.mu.Lock()
	f.closed = true
	cur := f.cur
	f.mu.Unlock()
	return cur.Close()
}

// release frees what only the reading goroutine touched, once it has ended.
func (f *failover[S]) release() {
	if r, ok := any(f.current()).(interface{ release() }); ok {
		r.release()
	}
}

// failoverVideo replaces a failed camera by the test pattern, at the size of the last
// frame the camera gave, so that the encoder need not start over at another size.
type failoverVideo struct {
	failover[videoSource]
	w, h int // size of the last frame; only the reading goroutine touches them
}

func newFailoverVideo(src videoSource, w, h, fps int, paced bool, notify func(string)) *failoverVideo {
	f := &failoverVideo{w: w, h: h}
	if sw, sh := src.Size(); sw > 0 && sh > 0 {
		f.w, f.h = sw, sh
	}
	f.cur, f.notify = src, notify
	f.replace = func(failed videoSource, err error) (videoSource, string) {
		return newTestPatternSource(f.w, f.h, fps, paced),
			fmt.Sprintf("camera %s stopped working (%v); sending a test pattern instead", failed.Label(), err)
	}
	return f
}

func (f *failoverVideo) Size() (w, h int) { return f.current().Size() }

func (f *failoverVideo) ReadFrame() (*image.YCbCr, bool, error) {
	src := f.current()
	for {
		img, fresh, err := src.ReadFrame()
		if err == nil {
			f.w, f.h = img.Rect.Dx(), img.Rect.Dy()
			return img, fresh, nil
		}
		next, ok := f.fail(src, err)
		if !ok {
			return nil, false, err
		}
		src = next
	}
}

// failoverAudio replaces a failed microphone by silence: a tone arriving in the middle
// of a conversation would be more confusing than a quiet line and a notice.
type failoverAudio struct {
	failover[audioSource]
}

func newFailoverAudio(src audioSource, paced bool, notify func(string)) *failoverAudio {
	f := &failoverAudio{}
	f.cur, f.notify = src, notify
	f.replace = func(failed audioSource, err error) (audioSource, string) {
		return newSilenceSource(paced),
			fmt.Sprintf("microphone %s stopped working (%v); sending silence instead", failed.Label(), err)
	}
	return f
}

func (f *failoverAudio) ReadChunk(buf []int16) error {
	src := f.current()
	for {
		err := src.ReadChunk(buf)
		if err == nil {
			return nil
		}
		next, ok := f.fail(src, err)
		if !ok {
			return err
		}
		src = next
	}
}
