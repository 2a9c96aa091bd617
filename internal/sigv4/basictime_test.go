package sigv4

import (
	"testing"
	"time"
)

var basicTimes = []string{
	"20261206T120000Z", "20240229T235959Z", "20230229T000000Z", "20261306T000000Z", "20261200T000000Z",
	"20261206T240000Z", "20261206T126000Z", "20261206T120060Z", "2026120xT120000Z", "20261206t120000Z",
	"20261206T120000", "0000101T000000Z", "00000101T000000Z", "20261231T235959Z", "2026-12-06T12:00:00Z", "",
	"20260431T000000Z", "+0261206T120000Z",
}

// TestBasicTimeParsesAsTimeParse: X-Amz-Date and the scope's date read by
// hand give what time.Parse gives, errors included.
func TestBasicTimeParsesAsTimeParse(t *testing.T) {
	for _, v := range basicTimes {
		checkBasicTime(t, v)
	}
}

func checkBasicTime(t *testing.T, v string) {
	t.Helper()
	got, err := parseBasicTime(v)
	want, wantErr := time.Parse(timeFormat, v)
	if (err == nil) != (wantErr == nil) || !got.Equal(want) || got.Location() != want.Location() {
		t.Errorf("parseBasicTime(%q) = %v, %v; time.Parse: %v, %v", v, got, err, want, wantErr)
	}
	if len(v) >= 8 {
		d := v[:8]
		got, err := parseBasicDate(d)
		want, wantErr := time.Parse("20060102", d)
		if (err == nil) != (wantErr == nil) || !got.Equal(want) {
			t.Errorf("parseBasicDate(%q) = %v, %v; time.Parse: %v, %v", d, got, err, want, wantErr)
		}
	}
}

func FuzzBasicTime(f *testing.F) {
	for _, v := range basicTimes {
		f.Add(v)
	}
	f.Fuzz(checkBasicTime)
}
