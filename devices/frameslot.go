package devices

import (
	"image"
	"sync"
)

// FrameSlot holds the latest video frame of one track. The decoder overwrites it; the
// renderer reads it at its own rate. Frames are never queued behind each other, so a
// slow reader sees fewer frames, never older ones.
type FrameSlot struct {
	mu    sync.Mutex
	frame *image.YCbCr // guarded by mu
	seq   uint64       // guarded by mu; counts stores
}

// Store replaces the frame. The slot keeps img: the writer must not modify it afterwards.
func (s *FrameSlot) Store(img *image.YCbCr) {
	s.mu.Lock()
	s.frame = img
	s.seq++
	s.mu.Unlock()
}

// Load returns the latest frame (nil before the first) and its sequence number, which
// grows with every Store; a reader compares it with the last one it drew to skip work.
func (s *FrameSlot) Load() (*image.YCbCr, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frame, s.seq
}
