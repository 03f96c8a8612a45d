package devices

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfwriter"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// recorder writes a remote track to a file without re-encoding: the RTP payloads go
// into pion's container writers on the recorder's own goroutine, so WriteRTP never
// waits for the disk.
type recorder struct {
	rtpQueue
	w       media.Writer
	onError func(error) // told of the first error at once; nil: only Close returns it
	errOnce sync.Once
	err     error // set by the goroutine before done is closed
}

// recorderQueue is deep enough for about 2 s of 720p video at the pace a disk stalls.
const recorderQueue = 2048

func newRecorder(w media.Writer, onError func(error)) *recorder {
	r := &recorder{rtpQueue: newRTPQueue(recorderQueue), w: w, onError: onError}
	// Owned by r; ends on Close, after writing what was queued.
	go r.run()
	return r
}

// fail keeps the first error and reports it at once (a full disk should not wait for
// the end of the call to be known). Recorder goroutine only.
func (r *recorder) fail(err error) {
	if r.err != nil {
		return
	}
	r.err = err
	if r.onError != nil {
		r.errOnce.Do(func() { r.onError(err) })
	}
}

func (r *recorder) write(p *rtp.Packet) {
	if r.err != nil {
		return // the file is broken: the rest is dropped, not half-written
	}
	if err := r.w.WriteRTP(p); err != nil {
		r.fail(fmt.Errorf("record: %w", err))
	}
}

func (r *recorder) run() {
	defer close(r.done)
	for {
		select {
		case p := <-r.in:
			r.write(p)
		case <-r.stop:
			for {
				select {
				case p := <-r.in:
					r.write(p)
				default:
					if err := r.w.Close(); err != nil {
						r.fail(fmt.Errorf("record close: %w", err))
					}
					return
				}
			}
		}
	}
}

// Close writes what is queued, closes the file and returns the first write error.
func (r *recorder) Close() error {
	r.shutdown()
	return r.err
}

// ErrExists is returned by the recorders when the file exists and Overwrite is off.
var ErrExists = fs.ErrExist

// RecordOptions are the options of a recorder.
type RecordOptions struct {
	// Overwrite replaces an existing file; without it a recorder refuses one
	// (ErrExists): a recording never silently destroys a file.
	Overwrite bool
	// OnError is told of the first write error (a full disk) as soon as it happens, on
	// the recorder's goroutine; it must not block. Later packets are dropped.
	OnError func(error)
}

// createPrivate makes the file of a recording, readable by the user alone (a call's
// audio is private), refusing an existing file unless o.Overwrite. The container writer
// then opens the file it made.
func createPrivate(path string, o RecordOptions) error {
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if o.Overwrite {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists (not overwritten): %w", path, ErrExists)
		}
		return err
	}
	if o.Overwrite {
		err = f.Chmod(0o600) // an existing file keeps its mode otherwise
	}
	return errors.Join(err, f.Close())
}

// NewOggRecorder writes a remote Opus track to an Ogg/Opus file, without re-encoding.
// The file is created 0600; an existing file is refused (see RecordOptions).
func NewOggRecorder(path string) (Receiver, error) {
	return NewOggRecorderWith(path, RecordOptions{})
}

// NewOggRecorderWith is NewOggRecorder with options.
func NewOggRecorderWith(path string, o RecordOptions) (Receiver, error) {
	if err := createPrivate(path, o); err != nil {
		return nil, fmt.Errorf("ogg recorder: %w", err)
	}
	w, err := oggwriter.New(path, sampleRate, 2)
	if err != nil {
		return nil, fmt.Errorf("ogg recorder %s: %w", path, err)
	}
	return newRecorder(w, o.OnError), nil
}

// NewIVFRecorder writes a remote VP8 track to an IVF file, without re-encoding. The
// file is created 0600; an existing file is refused (see RecordOptions).
func NewIVFRecorder(path string) (Receiver, error) {
	return NewIVFRecorderWith(path, RecordOptions{})
}

// NewIVFRecorderWith is NewIVFRecorder with options.
func NewIVFRecorderWith(path string, o RecordOptions) (Receiver, error) {
	if err := createPrivate(path, o); err != nil {
		return nil, fmt.Errorf("ivf recorder: %w", err)
	}
	w, err := ivfwriter.New(path, ivfwriter.WithCodec(webrtc.MimeTypeVP8))
	if err != nil {
		return nil, fmt.Errorf("ivf recorder %s: %w", path, err)
	}
	return newRecorder(w, o.OnError), nil
}
