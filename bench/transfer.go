package main

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/go-glance/glance/internal/testenv"
)

type transferReport struct {
	size int64
	rows []transferRow // beside python-glanceclient, on Glance
	side []sideRow     // beside curl, on Glance and glanced
	// parallel is one range against several through a capped proxy.
	parallel     []parallelRow
	parallelSize int64
}

type transferRow struct {
	client, op string
	res        result
}

// mibps is the throughput of the median run.
func (r transferRow) mibps(size int64) float64 {
	if r.res.wall <= 0 {
		return 0
	}
	return mib(size) / r.res.wall.Seconds()
}

// benchTransfer uploads (image-create --file) and downloads (image-download
// --file) one image of c.transferMiB random MiB with both CLIs, checking
// every upload's checksum in Glance and every download's bytes.
func benchTransfer(ctx context.Context, c *config, cloud *testenv.Cloud, bins *binaries, peer *api, tag, work string) (*transferReport, error) {
	size := int64(c.transferMiB) << 20
	src := filepath.Join(work, "image.raw")
	logf("transfer: writing %d MiB of random data", c.transferMiB)
	sum, err := writeRandom(src, size)
	if err != nil {
		return nil, err
	}
	rep := &transferReport{size: size}
	if c.transferCurl || c.parallelMiB > 0 {
		if err = benchBesideCurl(ctx, c, cloud, bins, peer, tag, work, src, sum, size, rep); err != nil && ctx.Err() != nil {
			return nil, err
		}
	}
	if !c.transferPython {
		return rep, nil
	}
	alpha := cloud.OSEnv(cloud.AlphaMember)
	hGo, hPy := filepath.Join(work, "home-xfer-go"), filepath.Join(work, "home-xfer-py")
	clients := []struct {
		key, name string
		bin       string
		env       []string
		prepare   []string
	}{
		{"go", "glance (this project)", bins.glance, cleanEnv(hGo, append(alpha, "OS_TOKEN_CACHE=false")...),
			[]string{"rm", "-rf", filepath.Join(hGo, ".cache")}},
		{"py", "glance (python-glanceclient)", "/usr/bin/glance", cleanEnv(hPy, alpha...),
			[]string{"rm", "-rf", filepath.Join(hPy, ".glanceclient")}},
	}
	var downloadID string
	for _, cl := range clients {
		os.MkdirAll(filepath.Join(work, "home-xfer-"+cl.key), 0o700)
		logf("transfer: %s image-create --file (%d MiB)", cl.name, c.transferMiB)
		res, err := repeat(ctx, c.transferRuns, size, func(i int) (sample, error) {
			name := fmt.Sprintf("%s-up-%s-%d", tag, cl.key, i)
			cmd := &command{env: cl.env, prepare: cl.prepare, argv: []string{cl.bin, "image-create", "--name", name,
				"--disk-format", "raw", "--container-format", "bare", "--file", src}}
			s, _, err := runOnce(ctx, cmd)
			if err != nil {
				return s, err
			}
			id, err := checkUpload(ctx, peer, name, size, sum)
			if err == nil && downloadID == "" {
				downloadID = id // kept for the downloads
			} else if id != "" {
				peer.do(ctx, "DELETE", "/v2/images/"+id, "", nil, http.StatusNoContent)
			}
			return s, err
		})
		if err != nil {
			return nil, err
		}
		rep.rows = append(rep.rows, transferRow{client: cl.name, op: "upload (image-create --file)", res: res})
	}
	if downloadID == "" {
		return rep, nil // every upload failed: the rows say why
	}

	out := filepath.Join(work, "download.raw")
	check := func() error {
		got, err := fileMD5(out)
		os.Remove(out)
		if err != nil {
			return err
		}
		if got != sum {
			return fmt.Errorf("downloaded data has MD5 %s, want %s", got, sum)
		}
		return nil
	}
	downloads := []struct {
		name, op string
		cmd      *command
	}{
		{clients[0].name, "download (image-download --file)", &command{env: clients[0].env, prepare: clients[0].prepare,
			argv: []string{bins.glance, "image-download", "--file", out, downloadID}}},
		{clients[1].name, "download (image-download --file)", &command{env: clients[1].env, prepare: clients[1].prepare,
			argv: []string{"/usr/bin/glance", "image-download", "--file", out, downloadID}}},
		{"curl (token)", "download (GET /v2/images/ID/file, -o)", &command{env: cleanEnv(filepath.Join(work, "home-curl")),
			argv: []string{"curl", "-sS", "-f", "-o", out, "-H", "X-Auth-Token: " + peer.token,
				peer.base + "/v2/images/" + downloadID + "/file"}}},
	}
	// Glance's image cache keeps an image the first time it is served: one
	// untimed download first, so that every timed one reads the same way.
	if _, _, err := runOnce(ctx, downloads[2].cmd); err != nil {
		return nil, fmt.Errorf("warm-up download: %w", err)
	}
	if err := check(); err != nil {
		return nil, fmt.Errorf("warm-up download: %w", err)
	}
	for _, d := range downloads {
		logf("transfer: %s download (%d MiB)", d.name, c.transferMiB)
		res, err := repeat(ctx, c.transferRuns, size, func(int) (sample, error) {
			s, _, err := runOnce(ctx, d.cmd)
			if err == nil {
				err = check()
			}
			return s, err
		})
		if err != nil {
			return nil, err
		}
		rep.rows = append(rep.rows, transferRow{client: d.name, op: d.op, res: res})
	}
	return rep, nil
}

// repeat runs one transfer runs times and sums it up; a failed run ends the
// series and goes into the result, only an interrupt is returned.
func repeat(ctx context.Context, runs int, size int64, once func(i int) (sample, error)) (result, error) {
	var walls []time.Duration
	var rss []int64
	for i := range runs {
		s, err := once(i)
		if ctx.Err() != nil {
			return result{}, ctx.Err()
		}
		if err != nil {
			logf("  failed: %v", err)
			return result{err: err}, nil
		}
		walls, rss = append(walls, s.wall), append(rss, s.maxRSS)
	}
	r := result{wall: median(walls), min: slices.Min(walls), max: slices.Max(walls), runs: len(walls), rss: median(rss)}
	logf("  median %v (%.0f MiB/s), peak RSS %.1f MiB", r.wall.Round(time.Millisecond), mib(size)/r.wall.Seconds(), mib(r.rss))
	return r, nil
}

// checkUpload finds the image named name and checks that Glance holds all
// of its data; it returns the image's ID whenever it found one.
func checkUpload(ctx context.Context, peer *api, name string, size int64, sum string) (string, error) {
	imgs, err := peer.list(ctx, "name="+url.QueryEscape(name))
	if err != nil {
		return "", err
	}
	if len(imgs) != 1 {
		return "", fmt.Errorf("%d images named %s after the upload, want 1", len(imgs), name)
	}
	img := imgs[0]
	if img.Status != "active" || img.Size != size || img.Checksum != sum {
		return img.ID, fmt.Errorf("image %s after the upload: status %s, size %d, checksum %s; want active, %d, %s",
			img.ID, img.Status, img.Size, img.Checksum, size, sum)
	}
	return img.ID, nil
}

// writeRandom fills name with size random bytes and returns their MD5, the
// checksum Glance keeps.
func writeRandom(name string, size int64) (string, error) {
	f, err := os.Create(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	var seed [32]byte
	rng := rand.NewChaCha8(seed)
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if _, err := io.CopyN(w, rng, size); err != nil {
		return "", err
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}

func fileMD5(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
