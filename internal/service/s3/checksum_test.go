package s3

import (
	"hash/crc64"
	"math/rand/v2"
	"testing"
)

// TestCRC64NVMESlicedMatchesTheTable checks the eight-bytes-at-a-time
// CRC-64/NVME against hash/crc64 with the same polynomial, for every length
// up to 300 and for bodies written in pieces, and against the check value
// of the CRC catalogue ("123456789" -> 0xae8b14860a799888).
func TestCRC64NVMESlicedMatchesTheTable(t *testing.T) {
	d := &crc64nvme{}
	d.Write([]byte("123456789"))
	if got := d.Sum64(); got != 0xae8b14860a799888 {
		t.Fatalf("check value %#x, want 0xae8b14860a799888", got)
	}
	tab := crc64.MakeTable(0x9a6c9329ac4bc9b5)
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 5000)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for n := 0; n <= 300; n++ {
		d.Reset()
		d.Write(buf[:n])
		if got, want := d.Sum64(), crc64.Checksum(buf[:n], tab); got != want {
			t.Fatalf("%d bytes: %#x, want %#x", n, got, want)
		}
	}
	for range 200 {
		n := r.IntN(len(buf))
		d.Reset()
		for p := buf[:n]; len(p) > 0; {
			k := r.IntN(len(p) + 1)
			d.Write(p[:k])
			p = p[k:]
		}
		want := crc64.Checksum(buf[:n], tab)
		if got := d.Sum64(); got != want {
			t.Fatalf("%d bytes in pieces: %#x, want %#x", n, got, want)
		}
		var be [8]byte
		for i := range be {
			be[i] = byte(want >> (56 - 8*i))
		}
		if got := d.Sum([]byte{7}); string(got) != string(append([]byte{7}, be[:]...)) {
			t.Fatalf("Sum appends %x, want 07%x", got, be)
		}
	}
}
