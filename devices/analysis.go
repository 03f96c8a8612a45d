package devices

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/cmplx"
	"os"
	"time"
)

// WriteToneWAV writes a 48 kHz mono 16-bit WAV file holding a sine of hz for dur at
// about -10 dBFS: a microphone file for bots and tests whose pitch can be found again at
// the far end with DominantFrequency.
func WriteToneWAV(path string, hz float64, dur time.Duration) error {
	n := int(dur.Seconds() * sampleRate)
	if n <= 0 || hz <= 0 || hz >= sampleRate/2 {
		return fmt.Errorf("tone wav: bad tone %.1f Hz for %v", hz, dur)
	}
	buf := make([]byte, 44+2*n)
	copy(buf[0:], "RIFF")
	binary.LittleEndian.PutUint32(buf[4:], uint32(36+2*n))
	copy(buf[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(buf[16:], 16)
	binary.LittleEndian.PutUint16(buf[20:], 1) // PCM
	binary.LittleEndian.PutUint16(buf[22:], 1) // mono
	binary.LittleEndian.PutUint32(buf[24:], sampleRate)
	binary.LittleEndian.PutUint32(buf[28:], sampleRate*2)
	binary.LittleEndian.PutUint16(buf[32:], 2)
	binary.LittleEndian.PutUint16(buf[34:], 16)
	copy(buf[36:], "data")
	binary.LittleEndian.PutUint32(buf[40:], uint32(2*n))
	for i := range n {
		v := int16(toneAmplitude * math.Sin(2*math.Pi*hz*float64(i)/sampleRate))
		binary.LittleEndian.PutUint16(buf[44+2*i:], uint16(v))
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		return fmt.Errorf("tone wav: %w", err)
	}
	return nil
}

// DominantFrequency returns the frequency (Hz) of the strongest spectral peak of mono
// PCM sampled at sampleRate, or 0 for silence or too little signal. It analyses up to
// 65536 samples from the middle of the signal (codec start-up is skipped) with a Hann
// window, and interpolates between FFT bins, so a steady tone is found within ~1 Hz.
func DominantFrequency(pcm []int16, sampleRate int) float64 {
	if sampleRate <= 0 || len(pcm) < 1024 || RMS(pcm) < 1 {
		return 0
	}
	n := 1
	for n*2 <= len(pcm) && n < 1<<16 {
		n *= 2
	}
	start := (len(pcm) - n) / 2
	x := make([]complex128, n)
	for i := range n {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		x[i] = complex(float64(pcm[start+i])*w, 0)
	}
	fft(x)
	best, bestMag := 0, 0.0
	lo := max(1, 20*n/sampleRate) // ignore DC and sub-audio rumble
	mags := make([]float64, n/2)
	for k := range mags {
		mags[k] = cmplx.Abs(x[k])
	}
	for k := lo; k < n/2-1; k++ {
		if mags[k] > bestMag {
			best, bestMag = k, mags[k]
		}
	}
	if best == 0 {
		return 0
	}
	// Parabolic interpolation on log magnitudes around the peak bin.
	a, b, c := math.Log(mags[best-1]+1e-9), math.Log(mags[best]+1e-9), math.Log(mags[best+1]+1e-9)
	delta := 0.0
	if den := a - 2*b + c; den != 0 {
		delta = 0.5 * (a - c) / den
	}
	return (float64(best) + delta) * float64(sampleRate) / float64(n)
}

// FileDominantFrequency decodes a WAV or Ogg/Opus file (such as a call recording made by
// NewOggRecorder) and returns its dominant frequency, as DominantFrequency.
func FileDominantFrequency(path string) (float64, error) {
	pcm, err := LoadAudioFile(path)
	if err != nil {
		return 0, err
	}
	return DominantFrequency(pcm, sampleRate), nil
}

// RMS is the root mean square of PCM samples (0 for digital silence).
func RMS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var s float64
	for _, v := range pcm {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(pcm)))
}

// fft is an in-place iterative radix-2 FFT; len(x) must be a power of two.
func fft(x []complex128) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		w := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := 0; k < size/2; k++ {
				u, v := x[start+k], x[start+k+size/2]*wk
				x[start+k], x[start+k+size/2] = u+v, u-v
				wk *= w
			}
		}
	}
}
