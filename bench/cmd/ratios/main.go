// Command ratios reads `go test -bench` output (files named as arguments,
// or standard input) and prints, for the comparison harness's benchmarks,
// the median of each benchmark's runs and the ratios that the project's
// goals are stated in:
//
//   - Verify: each contender relative to the hand-rolled floor and to
//     golang-jwt;
//   - Middleware: overhead = median ns/op − median ns/op of "bare", relative
//     to the overhead of the minimal golang-jwt middleware, of jwtauth and of
//     auth0;
//   - Issue: each contender relative to golang-jwt's SignedString.
//
// Other benchmarks are listed with their medians only.
//
//	go test -run '^$' -bench . -benchmem -count 8 | tee out.txt
//	go run ./cmd/ratios out.txt
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// sample is one result line: ns/op, B/op and allocs/op (-1 if absent).
type sample struct{ ns, bytes, allocs float64 }

type bench struct {
	group, name string // "Verify", "floor"
	samples     []sample
}

// A result line: name-GOMAXPROCS, iterations, then value/unit pairs.
var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader, byName map[string]*bench, order *[]string) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		s := sample{ns: -1, bytes: -1, allocs: -1}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.ns = v
			case "B/op":
				s.bytes = v
			case "allocs/op":
				s.allocs = v
			}
		}
		if s.ns < 0 {
			continue
		}
		full := m[1]
		b := byName[full]
		if b == nil {
			group, name, _ := strings.Cut(full, "/")
			b = &bench{group: group, name: name}
			byName[full] = b
			*order = append(*order, full)
		}
		b.samples = append(b.samples, s)
	}
	return sc.Err()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return -1
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (b *bench) med(field func(sample) float64) float64 {
	var xs []float64
	for _, s := range b.samples {
		xs = append(xs, field(s))
	}
	return median(xs)
}

func (b *bench) ns() float64     { return b.med(func(s sample) float64 { return s.ns }) }
func (b *bench) bytes() float64  { return b.med(func(s sample) float64 { return s.bytes }) }
func (b *bench) allocs() float64 { return b.med(func(s sample) float64 { return s.allocs }) }

// spread is (max−min)/median of ns/op, in percent: how noisy the runs were.
func (b *bench) spread() float64 {
	lo, hi := b.samples[0].ns, b.samples[0].ns
	for _, s := range b.samples {
		lo, hi = min(lo, s.ns), max(hi, s.ns)
	}
	return 100 * (hi - lo) / b.ns()
}

func dur(ns float64) string {
	switch {
	case ns < 0:
		return "-"
	case ns < 1000:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e6:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	}
}

func ratio(x, base float64) string {
	if base <= 0 || x < 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", x/base)
}

func num(x float64) string {
	if x < 0 {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

func main() {
	byName := map[string]*bench{}
	var order []string
	if len(os.Args) == 1 {
		if err := parse(os.Stdin, byName, &order); err != nil {
			fail(err)
		}
	}
	for _, path := range os.Args[1:] {
		f, err := os.Open(path)
		if err != nil {
			fail(err)
		}
		err = parse(f, byName, &order)
		f.Close()
		if err != nil {
			fail(err)
		}
	}
	if len(order) == 0 {
		fail(fmt.Errorf("no benchmark results in the input"))
	}
	groups := map[string][]*bench{}
	var groupOrder []string
	for _, full := range order {
		b := byName[full]
		if _, ok := groups[b.group]; !ok {
			groupOrder = append(groupOrder, b.group)
		}
		groups[b.group] = append(groups[b.group], b)
	}
	// The goals' order: verification, issue, middleware; others after.
	rank := func(g string) int {
		if i := slices.Index([]string{"Verify", "Issue", "Middleware"}, g); i >= 0 {
			return i
		}
		return 3
	}
	slices.SortStableFunc(groupOrder, func(a, b string) int { return rank(a) - rank(b) })
	get := func(group, name string) *bench { return byName[group+"/"+name] }
	nsOf := func(b *bench) float64 {
		if b == nil {
			return -1
		}
		return b.ns()
	}

	for _, g := range groupOrder {
		bs := groups[g]
		fmt.Printf("\n## %s (medians of %d runs)\n\n", g, len(bs[0].samples))
		switch g {
		case "Verify":
			floor, gj := nsOf(get(g, "floor")), nsOf(get(g, "golang_jwt"))
			fmt.Println("| contender | ns/op | B/op | allocs/op | × floor | × golang-jwt | spread |")
			fmt.Println("|---|---|---|---|---|---|---|")
			for _, b := range bs {
				fmt.Printf("| %s | %s | %s | %s | %s | %s | %.0f%% |\n", b.name, dur(b.ns()), num(b.bytes()),
					num(b.allocs()), ratio(b.ns(), floor), ratio(b.ns(), gj), b.spread())
			}
		case "Middleware":
			bare := nsOf(get(g, "bare"))
			over := func(b *bench) float64 {
				if b == nil || bare < 0 {
					return -1
				}
				return b.ns() - bare
			}
			minimal, chi, a0 := over(get(g, "golang_jwt_min")), over(get(g, "jwtauth")), over(get(g, "auth0"))
			fmt.Println("overhead = median ns/op − median ns/op of bare")
			fmt.Println()
			fmt.Println("| contender | ns/op | overhead | B/op | allocs/op | × golang-jwt minimal | × jwtauth | × auth0 | spread |")
			fmt.Println("|---|---|---|---|---|---|---|---|---|")
			for _, b := range bs {
				if b.name == "bare" {
					fmt.Printf("| bare | %s | (baseline) | %s | %s | | | | %.0f%% |\n", dur(b.ns()), num(b.bytes()), num(b.allocs()), b.spread())
					continue
				}
				o := over(b)
				fmt.Printf("| %s | %s | +%s | %s | %s | %s | %s | %s | %.0f%% |\n", b.name, dur(b.ns()), dur(o),
					num(b.bytes()), num(b.allocs()), ratio(o, minimal), ratio(o, chi), ratio(o, a0), b.spread())
			}
		case "Issue":
			gj := nsOf(get(g, "golang_jwt"))
			fmt.Println("| contender | ns/op | B/op | allocs/op | × golang-jwt | spread |")
			fmt.Println("|---|---|---|---|---|---|")
			for _, b := range bs {
				fmt.Printf("| %s | %s | %s | %s | %s | %.0f%% |\n", b.name, dur(b.ns()), num(b.bytes()),
					num(b.allocs()), ratio(b.ns(), gj), b.spread())
			}
		default:
			fmt.Println("| benchmark | ns/op | B/op | allocs/op | spread |")
			fmt.Println("|---|---|---|---|---|")
			for _, b := range bs {
				name := b.group
				if b.name != "" {
					name += "/" + b.name
				}
				fmt.Printf("| %s | %s | %s | %s | %.0f%% |\n", name, dur(b.ns()), num(b.bytes()), num(b.allocs()), b.spread())
			}
		}
	}
	fmt.Println("\nspread = (slowest − fastest run) / median, of ns/op")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ratios:", err)
	os.Exit(1)
}
