package devices

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

// isMediaFile reports whether a camera/microphone setting names a file rather than a
// device: it has a known extension or exists on disk.
func isMediaFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".ivf", ".y4m", ".wav", ".ogg", ".opus":
		return true
	}
	if strings.HasPrefix(name, "/dev/") {
		return false
	}
	st, err := os.Stat(name)
	return err == nil && st.Mode().IsRegular()
}

// openVideoFile opens an IVF (VP8) or Y4M file as a looping camera.
func openVideoFile(path string, paced bool) (videoSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open video file: %w", err)
	}
	var magic [9]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		f.Close()
		return nil, fmt.Errorf("video file %s: %w", path, ErrBadFile)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("video file %s: %w", path, err)
	}
	switch {
	case string(magic[:4]) == "DKIF":
		return newIVFSource(f, path, paced)
	case string(magic[:9]) == "YUV4MPEG2":
		return newY4MSource(f, path, paced)
	}
	f.Close()
	return nil, fmt.Errorf("video file %s is neither IVF nor Y4M: %w", path, ErrBadFile)
}

// ivfSource decodes an IVF VP8 file and loops it. Frames are decoded and re-encoded by
// the track's encoder so that key frame requests, bitrate and mute work as for a camera.
type ivfSource struct {
	f     *os.File
	r     *ivfreader.IVFReader
	dec   *vp8Decoder
	pace  *pacer
	label string
	w, h  int // from the IVF header
	last  *image.YCbCr
}

func newIVFSource(f *os.File, path string, paced bool) (*ivfSource, error) {
	r, hdr, err := ivfreader.NewWith(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ivf %s: %v: %w", path, err, ErrBadFile)
	}
	if hdr.FourCC != "VP80" {
		f.Close()
		return nil, fmt.Errorf("ivf %s: codec %q, want VP80: %w", path, hdr.FourCC, ErrBadFile)
	}
	dec, err := newVP8Decoder()
	if err != nil {
		f.Close()
		return nil, err
	}
	// IVF's time base is usually the frame rate (e.g. 1/30); fall back to 30 fps.
	fps := 30.0
	if hdr.TimebaseNumerator > 0 && hdr.TimebaseDenominator > 0 {
		if v := float64(hdr.TimebaseDenominator) / float64(hdr.TimebaseNumerator); v >= 1 && v <= 120 {
			fps = v
		}
	}
	iv := time.Duration(0)
	if paced {
		iv = time.Duration(float64(time.Second) / fps)
	}
	return &ivfSource{f: f, r: r, dec: dec, pace: newPacer(iv), label: filepath.Base(path), w: int(hdr.Width), h: int(hdr.Height)}, nil
}

func (s *ivfSource) ReadFrame() (*image.YCbCr, bool, error) {
	if err := s.pace.wait(); err != nil {
		return nil, false, err
	}
	// A bounded number of attempts: a file with no decodable frame must not spin.
	for range 1000 {
		frame, _, err := s.r.ParseNextFrame()
		if err != nil {
			if _, serr := s.f.Seek(0, io.SeekStart); serr != nil {
				return nil, false, fmt.Errorf("ivf rewind: %w", serr)
			}
			r, _, rerr := ivfreader.NewWith(s.f)
			if rerr != nil {
				return nil, false, fmt.Errorf("ivf rewind: %v: %w", rerr, ErrBadFile)
			}
			s.r = r
			continue
		}
		img, _, derr := s.dec.Decode(frame)
		if derr != nil || img == nil {
			continue
		}
		s.last = img
		return img, true, nil
	}
	if s.last != nil {
		return s.last, false, nil
	}
	return nil, false, fmt.Errorf("ivf %s: no decodable frame: %w", s.label, ErrBadFile)
}

func (s *ivfSource) Label() string    { return s.label }
func (s *ivfSource) Size() (w, h int) { return s.w, s.h }

func (s *ivfSource) Close() error {
	s.pace.stop()
	return nil
}

// release frees what only the reading goroutine may touch; called after it ended.
func (s *ivfSource) release() {
	s.dec.Close()
	s.f.Close()
}

// y4mSource reads a 4:2:0 Y4M file and loops it.
type y4mSource struct {
	f          *os.File
	br         *bufio.Reader
	w, h       int
	dataOffset int64
	pace       *pacer
	label      string
}

func newY4MSource(f *os.File, path string, paced bool) (*y4mSource, error) {
	br := bufio.NewReaderSize(f, 1<<20)
	line, err := br.ReadString('\n')
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("y4m %s: header: %w", path, ErrBadFile)
	}
	w, h, fps := 0, 0, 30.0
	for _, tok := range strings.Fields(line)[1:] {
		switch tok[0] {
		case 'W':
			w, _ = strconv.Atoi(tok[1:])
		case 'H':
			h, _ = strconv.Atoi(tok[1:])
		case 'F':
			if a, b, ok := strings.Cut(tok[1:], ":"); ok {
				n, _ := strconv.Atoi(a)
				d, _ := strconv.Atoi(b)
				if n > 0 && d > 0 {
					fps = float64(n) / float64(d)
				}
			}
		case 'C':
			switch tok {
			case "C420", "C420jpeg", "C420paldv", "C420mpeg2":
			default:
				f.Close()
				return nil, fmt.Errorf("y4m %s: colour space %s, only 4:2:0 is supported: %w", path, tok, ErrBadFile)
			}
		}
	}
	if w <= 0 || h <= 0 || w > 8192 || h > 8192 {
		f.Close()
		return nil, fmt.Errorf("y4m %s: bad size %dx%d: %w", path, w, h, ErrBadFile)
	}
	iv := time.Duration(0)
	if paced {
		iv = time.Duration(float64(time.Second) / min(max(fps, 1), 120))
	}
	return &y4mSource{f: f, br: br, w: w, h: h, dataOffset: int64(len(line)), pace: newPacer(iv), label: filepath.Base(path)}, nil
}

func (s *y4mSource) ReadFrame() (*image.YCbCr, bool, error) {
	if err := s.pace.wait(); err != nil {
		return nil, false, err
	}
	for attempt := 0; attempt < 2; attempt++ {
		img, err := s.readOne()
		if err == nil {
			return img, true, nil
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, false, err
		}
		if _, err := s.f.Seek(s.dataOffset, io.SeekStart); err != nil {
			return nil, false, fmt.Errorf("y4m rewind: %w", err)
		}
		s.br.Reset(s.f)
	}
	return nil, false, fmt.Errorf("y4m %s: no frames: %w", s.label, ErrBadFile)
}

func (s *y4mSource) readOne() (*image.YCbCr, error) {
	line, err := s.br.ReadString('\n')
	if err != nil {
		return nil, io.EOF
	}
	if !strings.HasPrefix(line, "FRAME") {
		return nil, fmt.Errorf("y4m %s: expected FRAME: %w", s.label, ErrBadFile)
	}
	img := image.NewYCbCr(image.Rect(0, 0, s.w, s.h), image.YCbCrSubsampleRatio420)
	for _, p := range [][]byte{img.Y, img.Cb, img.Cr} {
		if _, err := io.ReadFull(s.br, p); err != nil {
			return nil, io.EOF
		}
	}
	return img, nil
}

func (s *y4mSource) Label() string    { return s.label }
func (s *y4mSource) Size() (w, h int) { return s.w, s.h }
func (s *y4mSource) Close() error     { s.pace.stop(); return nil }
func (s *y4mSource) release()         { s.f.Close() }

// openAudioFile decodes a WAV or Ogg/Opus file into memory as 48 kHz mono and returns a
// looping source. Bot prompts and test files are short; decoding once keeps the real-time
// path free of I/O and parsing.
func openAudioFile(path string, paced bool) (audioSource, error) {
	pcm, err := LoadAudioFile(path)
	if err != nil {
		return nil, err
	}
	if len(pcm) == 0 {
		return nil, fmt.Errorf("audio file %s: no samples: %w", path, ErrBadFile)
	}
	iv := time.Duration(0)
	if paced {
		iv = chunkDur
	}
	return &pcmLoopSource{pace: newPacer(iv), pcm: pcm, label: filepath.Base(path)}, nil
}

// LoadAudioFile decodes a WAV (PCM 8/16/24/32-bit or float) or Ogg/Opus file to 48 kHz
// mono int16.
func LoadAudioFile(path string) ([]int16, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read audio file: %w", err)
	}
	switch {
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WAVE":
		pcm, ch, rate, err := parseWAV(data)
		if err != nil {
			return nil, fmt.Errorf("wav %s: %w", path, err)
		}
		return resampleMono(pcm, ch, rate), nil
	case len(data) >= 4 && string(data[:4]) == "OggS":
		pcm, ch, err := decodeOggOpus(data)
		if err != nil {
			return nil, fmt.Errorf("ogg %s: %w", path, err)
		}
		return resampleMono(pcm, ch, sampleRate), nil
	}
	return nil, fmt.Errorf("audio file %s is neither WAV nor Ogg: %w", path, ErrBadFile)
}

// parseWAV returns interleaved int16 samples, the channel count and the sample rate.
func parseWAV(data []byte) ([]int16, int, int, error) {
	var (
		format, channels, bits int
		rate                   int
		body                   []byte
	)
	for p := 12; p+8 <= len(data); {
		id := string(data[p : p+4])
		size := int(binary.LittleEndian.Uint32(data[p+4 : p+8]))
		p += 8
		if size < 0 || size > len(data)-p {
			size = len(data) - p // tolerate a truncated last chunk (streams write 0 or -1)
		}
		chunk := data[p : p+size]
		switch id {
		case "fmt ":
			if len(chunk) < 16 {
				return nil, 0, 0, fmt.Errorf("short fmt chunk: %w", ErrBadFile)
			}
			format = int(binary.LittleEndian.Uint16(chunk[0:]))
			channels = int(binary.LittleEndian.Uint16(chunk[2:]))
			rate = int(binary.LittleEndian.Uint32(chunk[4:]))
			bits = int(binary.LittleEndian.Uint16(chunk[14:]))
			if format == 0xfffe && len(chunk) >= 26 { // WAVE_FORMAT_EXTENSIBLE: sub-format
				format = int(binary.LittleEndian.Uint16(chunk[24:]))
			}
		case "data":
			body = chunk
		}
		p += size + size&1
	}
	if channels < 1 || channels > 8 || rate < 1000 || rate > 384000 || body == nil {
		return nil, 0, 0, fmt.Errorf("missing or bad fmt/data chunk: %w", ErrBadFile)
	}
	bps := bits / 8
	if bps < 1 || bps > 4 || !(format == 1 || (format == 3 && bps == 4)) {
		return nil, 0, 0, fmt.Errorf("format %d with %d bits unsupported: %w", format, bits, ErrBadFile)
	}
	n := len(body) / bps
	out := make([]int16, n)
	for i := range n {
		b := body[i*bps : i*bps+bps]
		switch {
		case format == 3:
			f := float64(float32frombits(binary.LittleEndian.Uint32(b)))
			out[i] = clip16(int32(f * 32767))
		case bps == 1:
			out[i] = int16(int(b[0])-128) << 8
		case bps == 2:
			out[i] = int16(binary.LittleEndian.Uint16(b))
		case bps == 3:
			out[i] = int16(uint16(b[1]) | uint16(b[2])<<8)
		case bps == 4:
			out[i] = int16(binary.LittleEndian.Uint32(b) >> 16)
		}
	}
	return out[:n-n%channels], channels, rate, nil
}

// resampleMono downmixes interleaved PCM to mono and resamples it linearly to 48 kHz;
// good enough for speech prompts and tones, and free of dependencies.
func resampleMono(pcm []int16, channels, rate int) []int16 {
	frames := len(pcm) / channels
	mono := make([]int16, frames)
	for i := range frames {
		var s int32
		for c := range channels {
			s += int32(pcm[i*channels+c])
		}
		mono[i] = int16(s / int32(channels))
	}
	if rate == sampleRate || frames == 0 {
		return mono
	}
	outN := int(int64(frames) * sampleRate / int64(rate))
	out := make([]int16, outN)
	for i := range outN {
		pos := float64(i) * float64(rate) / sampleRate
		j := int(pos)
		fr := pos - float64(j)
		a := float64(mono[min(j, frames-1)])
		b := float64(mono[min(j+1, frames-1)])
		out[i] = int16(a + (b-a)*fr)
	}
	return out
}
