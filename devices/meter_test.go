package devices

import (
	"math"
	"testing"
	"time"
)

func TestMeterMeasuresAndPassesThrough(t *testing.T) {
	mix := NewMixer(1)
	m := NewMeter(mix)
	now := time.Unix(0, 0)
	m.now = func() time.Time { return now }
	in, err := m.NewInput("bob", 1)
	if err != nil {
		t.Fatal(err)
	}
	tone := make([]int16, 960)
	for i := range tone {
		tone[i] = int16(16384 * math.Sin(2*math.Pi*440*float64(i)/48000))
	}
	if err := in.WritePCM(tone); err != nil {
		t.Fatal(err)
	}
	l, ok := m.Level("bob")
	if !ok || math.Abs(l-0.5/math.Sqrt2) > 0.02 {
		t.Fatalf("level %v %v, want about 0.354", l, ok)
	}
	if mix.Inputs() != 1 {
		t.Fatalf("not passed to the output")
	}
	now = now.Add(time.Second)
	if _, ok := m.Level("bob"); ok {
		t.Fatal("a stopped input still has a level")
	}
	in.Close()
	if mix.Inputs() != 0 {
		t.Fatal("input not closed downstream")
	}
}
