package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// A command is one program run to be measured.
type command struct {
	argv    []string
	env     []string
	prepare []string // run before each measured run, untimed (e.g. removing a cache)
	check   func(stdout []byte) error
}

// sample is one measured run.
type sample struct {
	wall   time.Duration
	maxRSS int64         // bytes, from wait4's rusage
	cpu    time.Duration // user + system time, from the same
}

// runOnce runs c once (after its prepare step) and measures the wall time
// from start to exit, as hyperfine does without a shell, and the peak
// resident set of the process.
func runOnce(ctx context.Context, c *command) (sample, []byte, error) {
	if len(c.prepare) > 0 {
		if out, err := exec.CommandContext(ctx, c.prepare[0], c.prepare[1:]...).CombinedOutput(); err != nil {
			return sample{}, nil, fmt.Errorf("prepare %s: %w: %s", strings.Join(c.prepare, " "), err, out)
		}
	}
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, nil, fmt.Errorf("%s: %w: %s", shellQuote(c.argv), err, lastLines(stderr.String(), 5))
	}
	s := sample{wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.maxRSS = ru.Maxrss * 1024 // KiB on Linux
		s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if c.check != nil {
		if err := c.check(stdout.Bytes()); err != nil {
			return s, stdout.Bytes(), fmt.Errorf("%s: wrong output: %w", shellQuote(c.argv), err)
		}
	}
	return s, stdout.Bytes(), nil
}

// A job is one command of the CLI table and what was measured of it.
type job struct {
	name  string
	cmd   *command
	res   *result
	walls []time.Duration
	rss   []int64
}

// measureAll measures every job: first rssRuns checked rounds, then runs
// timed ones. A round runs each job once, in turn, so that changes in the
// machine's load during the run hit every command alike. Timed runs go
// through hyperfine (one run per call) or runOnce, as timer says. The peak
// RSS is the median over the runs of runOnce, the wall time the median over
// the timed runs; the checked rounds double as warm-up. A job that fails
// once is dropped, its error kept in its result.
func measureAll(ctx context.Context, jobs []*job, runs, rssRuns int, timer, work string) error {
	for round := range rssRuns + runs {
		timed := round >= rssRuns
		logf("CLI: round %d of %d (%d commands, %s)", round+1, rssRuns+runs, len(jobs),
			map[bool]string{false: "checked", true: "timed"}[timed])
		for _, j := range jobs {
			if j.res.err != nil {
				continue
			}
			var err error
			if timed && timer == "hyperfine" {
				var walls []time.Duration
				walls, err = hyperfine(ctx, j.cmd, 1, work)
				j.walls = append(j.walls, walls...)
			} else {
				var s sample
				s, _, err = runOnce(ctx, j.cmd)
				j.rss = append(j.rss, s.maxRSS)
				if timed {
					j.walls = append(j.walls, s.wall)
				}
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				logf("  %s failed: %v", j.name, err)
				j.res.err = err
			}
		}
	}
	for _, j := range jobs {
		if j.res.err != nil {
			continue
		}
		*j.res = result{wall: median(j.walls), min: slices.Min(j.walls), max: slices.Max(j.walls),
			runs: len(j.walls), rss: median(j.rss)}
		logf("  %s: median %v, peak RSS %.1f MiB", j.name, j.res.wall.Round(100*time.Microsecond), mib(j.res.rss))
	}
	return nil
}

// result is what the report shows of one command.
type result struct {
	wall, min, max time.Duration // median, fastest and slowest run
	runs           int
	rss            int64         // median peak RSS, bytes
	cpu            time.Duration // median CPU time (user + system), when measured
	err            error         // the command could not be measured
	note           string
}

// hyperfine times c with hyperfine, without a shell and without warm-up,
// and returns the wall time of each run.
func hyperfine(ctx context.Context, c *command, runs int, work string) ([]time.Duration, error) {
	f, err := os.CreateTemp(work, "hyperfine-*.json")
	if err != nil {
		return nil, err
	}
	f.Close()
	defer os.Remove(f.Name())
	args := []string{"-N", "--style", "none", "--runs", fmt.Sprint(runs), "--export-json", f.Name()}
	if len(c.prepare) > 0 {
		args = append(args, "--prepare", shellQuote(c.prepare))
	}
	args = append(args, shellQuote(c.argv))
	cmd := exec.CommandContext(ctx, "hyperfine", args...)
	cmd.Env = c.env
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("hyperfine %s: %w: %s", shellQuote(c.argv), err, lastLines(string(out), 5))
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		return nil, err
	}
	var doc struct {
		Results []struct {
			Times []float64 `json:"times"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("hyperfine's JSON: %w", err)
	}
	if len(doc.Results) != 1 || len(doc.Results[0].Times) != runs {
		return nil, fmt.Errorf("hyperfine's JSON: want %d times of one command", runs)
	}
	var walls []time.Duration
	for _, t := range doc.Results[0].Times {
		walls = append(walls, time.Duration(t*float64(time.Second)))
	}
	return walls, nil
}

// shellQuote writes argv as one POSIX shell line, the form hyperfine splits.
func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// median returns the middle value, or the mean of the two middle ones.
func median[T ~int64](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// filesUnder counts the regular files below dir.
func filesUnder(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}
