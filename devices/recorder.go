package devices

import (
	"fmt"

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
	w   media.Writer
	err error // set by the goroutine before done is closed
}

// recorderQueue is deep enough for about 2 s of 720p video at the pace a disk stalls.
const recorderQueue = 2048

func newRecorder(w media.Writer) *recorder {
	r := &recorder{rtpQueue: newRTPQueue(recorderQueue), w: w}
	// Owned by r; ends on Close, after writing what was queued.
	go r.run()
	return r
}

func (r *recorder) run() {
	defer close(r.done)
	for {
		select {
		case p := <-r.in:
			if err := r.w.WriteRTP(p); err != nil && r.err == nil {
				r.err = fmt.Errorf("record: %w", err)
			}
		case <-r.stop:
			for {
				select {
				case p := <-r.in:
					if err := r.w.WriteRTP(p); err != nil && r.err == nil {
						r.err = fmt.Errorf("record: %w", err)
					}
				default:
					if err := r.w.Close(); err != nil && r.err == nil {
						r.err = fmt.Errorf("record close: %w", err)
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

// NewOggRecorder writes a remote Opus track to an Ogg/Opus file, without re-encoding.
func NewOggRecorder(path string) (Receiver, error) {
	w, err := oggwriter.New(path, sampleRate, 2)
	if err != nil {
		return nil, fmt.Errorf("ogg recorder %s: %w", path, err)
	}
	return newRecorder(w), nil
}

// NewIVFRecorder writes a remote VP8 track to an IVF file, without re-encoding.
func NewIVFRecorder(path string) (Receiver, error) {
	w, err := ivfwriter.New(path, ivfwriter.WithCodec(webrtc.MimeTypeVP8))
	if err != nil {
		return nil, fmt.Errorf("ivf recorder %s: %w", path, err)
	}
	return newRecorder(w), nil
}
