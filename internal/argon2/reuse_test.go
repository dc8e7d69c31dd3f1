package argon2

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	xargon2 "golang.org/x/crypto/argon2"
)

// idParams are one IDKey call's cost parameters.
type idParams struct {
	time, memory uint32
	threads      uint8
	keyLen       uint32
}

// blocksFor is the number of blocks IDKey works in for p: memory rounded
// down to a multiple of 4 × threads, at least 8 × threads.
func blocksFor(p idParams) int {
	lanes := 4 * uint32(p.threads)
	return int(max(p.memory/lanes*lanes, 2*lanes))
}

// checkIDKey fails t unless IDKey with mem and x/crypto's IDKey derive the
// same key from password, salt and p.
func checkIDKey(t *testing.T, mem *Memory, password, salt []byte, p idParams) {
	t.Helper()
	want := xargon2.IDKey(password, salt, p.time, p.memory, p.threads, p.keyLen)
	got := IDKey(mem, password, salt, p.time, p.memory, p.threads, p.keyLen)
	if !bytes.Equal(got, want) {
		t.Errorf("IDKey(password %x, salt %x, %+v):\ngot  %x\nwant %x (x/crypto)", password, salt, p, got, want)
	}
}

// TestIDKeyMatchesXCrypto derives keys from random passwords, salts and
// parameters with one Memory reused by every call, in an order that grows
// and shrinks the memory used and changes passes and lanes, and compares
// them with golang.org/x/crypto/argon2's.
func TestIDKeyMatchesXCrypto(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	calls := 60
	if testing.Short() {
		calls = 15
	}
	var mem Memory
	for range calls {
		p := idParams{
			time:    1 + rnd.Uint32N(4),
			threads: uint8(1 + rnd.UintN(8)),
			keyLen:  4 + rnd.Uint32N(125),
		}
		p.memory = 8*uint32(p.threads) + rnd.Uint32N(1500) // not always a multiple of 4 × threads
		if rnd.UintN(4) == 0 {
			p.memory = rnd.Uint32N(8 * uint32(p.threads)) // below the minimum: IDKey raises it, as x/crypto does
		}
		checkIDKey(t, &mem, randBytes(rnd.IntN(80)), randBytes(rnd.IntN(40)), p)
		if t.Failed() {
			return
		}
	}

	// The shape a password hasher sees: OWASP's parameters, then larger
	// and smaller ones, then OWASP's again.
	for _, p := range []idParams{
		{2, 19456, 1, 32},
		{3, 12288, 1, 32},
		{2, 19456, 2, 64},
		{1, 64, 1, 16},
		{2, 19456, 1, 32},
	} {
		checkIDKey(t, &mem, randBytes(12), randBytes(16), p)
	}
}

// TestIDKeyDirtyMemory fills a Memory with garbage before each call: the
// first pass XORs into its blocks, so IDKey must clear them first.
func TestIDKeyDirtyMemory(t *testing.T) {
	var mem Memory
	password, salt := []byte("password"), []byte("somesalt")
	for _, p := range []idParams{{1, 256, 1, 32}, {3, 256, 2, 32}, {2, 128, 4, 24}, {2, 256, 1, 32}} {
		for i := range mem.blocks[:cap(mem.blocks)] {
			for j := range mem.blocks[i] {
				mem.blocks[i][j] = ^uint64(i*blockLength + j)
			}
		}
		checkIDKey(t, &mem, password, salt, p)
	}
}

// TestMemoryGrowth checks that a Memory grows to exactly the blocks the
// largest call needed, is reused as it is by smaller calls, and that a nil
// Memory works.
func TestMemoryGrowth(t *testing.T) {
	var mem Memory
	for _, step := range []struct {
		p       idParams
		wantCap int
	}{
		{idParams{1, 64, 1, 32}, 64},
		{idParams{1, 1023, 1, 32}, 1020}, // rounded down to 4 × threads
		{idParams{1, 64, 2, 32}, 1020},   // smaller: reused
		{idParams{1, 3, 1, 32}, 1020},    // raised to 8 × threads, still reused
		{idParams{2, 2048, 4, 32}, 2048}, // larger: grown
		{idParams{1, 100, 3, 32}, 2048},
	} {
		before := mem.blocks
		checkIDKey(t, &mem, []byte("pw"), []byte("saltsalt"), step.p)
		if got := cap(mem.blocks); got != step.wantCap {
			t.Errorf("after %+v: %d blocks, want %d", step.p, got, step.wantCap)
		}
		if grew := blocksFor(step.p) > cap(before); !grew && cap(before) > 0 && &mem.blocks[0] != &before[0] {
			t.Errorf("after %+v: memory reallocated though it was large enough", step.p)
		}
	}
	checkIDKey(t, nil, []byte("pw"), []byte("saltsalt"), idParams{2, 64, 1, 32})
}

// TestIDKeyKnownAnswer is RFC 9106's Argon2id test vector computed the way
// IDKey computes (no secret, no associated data), from x/crypto's tests:
// password "password", salt "somesalt", t=2, m=64, p=1.
func TestIDKeyKnownAnswer(t *testing.T) {
	want, _ := hex.DecodeString("068d62b26455936aa6ebe60060b0a65870dbfa3ddf8d41f7")
	var mem Memory
	for i := range 2 {
		if got := IDKey(&mem, []byte("password"), []byte("somesalt"), 2, 64, 1, 24); !bytes.Equal(got, want) {
			t.Errorf("call %d: IDKey = %x, want %x", i, got, want)
		}
	}
}

// BenchmarkIDKey compares, at OWASP's parameters (m=19456 KiB, t=2, p=1),
// x/crypto's IDKey, this package's with fresh memory at each call (nil)
// and with one reused Memory.
func BenchmarkIDKey(b *testing.B) {
	password, salt := []byte("password"), []byte("choosing random salts is hard")
	const time, memory, threads, keyLen = 2, 19456, 1, 32
	b.Run("x-crypto", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			xargon2.IDKey(password, salt, time, memory, threads, keyLen)
		}
	})
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			IDKey(nil, password, salt, time, memory, threads, keyLen)
		}
	})
	b.Run("reused", func(b *testing.B) {
		b.ReportAllocs()
		var mem Memory
		for b.Loop() {
			IDKey(&mem, password, salt, time, memory, threads, keyLen)
		}
	})
}

// TestProcessBlockGeneric compares processBlockGeneric, the pure Go
// compression function of builds without assembly (other architectures,
// purego), with processBlock and processBlockXOR of this build, on random
// blocks. (go test -tags purego runs every other test on it.)
func TestProcessBlockGeneric(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var in1, in2, out0 block
	for range 100 {
		for i := range in1 {
			in1[i], in2[i], out0[i] = rnd.Uint64(), rnd.Uint64(), rnd.Uint64()
		}
		for _, xor := range []bool{false, true} {
			got, want := out0, out0
			if xor {
				processBlockXOR(&got, &in1, &in2)
			} else {
				processBlock(&got, &in1, &in2)
			}
			processBlockGeneric(&want, &in1, &in2, xor)
			if got != want {
				t.Fatalf("xor %v: processBlock and processBlockGeneric differ", xor)
			}
		}
	}
}
