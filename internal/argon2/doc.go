// Copyright 2017 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package argon2 implements the key derivation function Argon2id, with
// work memory that the caller keeps and reuses from one call to the next.
//
// Argon2 was selected as the winner of the Password Hashing Competition and can
// be used to derive cryptographic keys from passwords. For a detailed
// specification of Argon2 see [argon2-specs.pdf] and [RFC 9106].
//
// Argon2id (implemented by [IDKey]) is a hybrid version of Argon2 combining
// Argon2i and Argon2d. It uses data-independent memory access for the first
// half of the first iteration over the memory and data-dependent memory access
// for the rest.
//
// # Origin
//
// This package is a copy of golang.org/x/crypto/argon2 at x/crypto v0.59.0
// (the version in the module's go.mod), under x/crypto's BSD licence,
// reproduced in this directory's LICENSE file. The Go Authors' copyright
// notices are kept in every file that came from there.
//
// Why a copy: x/crypto's IDKey allocates its work memory (memory KiB, 19 MiB
// with OWASP's parameters) afresh at every call, so every password hash
// leaves that much garbage behind, and under a stream of logins the heap
// runs ahead of the garbage collector, to about twice the memory of the
// hashes in flight. Here the caller passes a [Memory] that IDKey reuses.
//
// What changed, and nothing else:
//
//   - IDKey takes a *Memory as its first argument; the work memory comes
//     from it (Memory.get) instead of make. Reused blocks are zeroed before
//     use, because the first pass XORs into them (see Memory.get).
//   - Key (Argon2i) is not exported; the unexported Argon2i and Argon2d
//     modes stay, so that the code shared by the three modes is unchanged
//     and x/crypto's own tests of all three still run against it.
//   - The package comment moved to this file.
//
// blake2b.go, blamka_amd64.go, blamka_amd64.s, blamka_generic.go,
// blamka_loong64.go, blamka_loong64.s and blamka_ref.go are x/crypto's
// files unchanged, build constraints included (blamka_amd64.s is generated
// by x/crypto's argon2/_asm, which is not copied). argon2_test.go is
// x/crypto's test file, run with fresh and with reused memory, without its
// Argon2i and Argon2d benchmarks; reuse_test.go compares IDKey with
// golang.org/x/crypto/argon2's on random inputs through one reused Memory.
//
// [argon2-specs.pdf]: https://github.com/P-H-C/phc-winner-argon2/blob/master/argon2-specs.pdf
// [RFC 9106]: https://www.rfc-editor.org/rfc/rfc9106.html
package argon2
