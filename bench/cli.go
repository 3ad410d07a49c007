package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/go-glance/glance/internal/testenv"
)

// cliCase is one client with one way to authenticate.
type cliCase struct {
	client, auth string
	list, show   result
}

type cliReport struct {
	cases map[string]*cliCase
	order []string
	notes []string
}

const (
	goNoCache = "go-password-nocache"
	goCache   = "go-password-cache"
	goToken   = "go-token"
	osc       = "openstack"
	pyGlance  = "python-glance"
	curl      = "curl"
	// curlAfterRoot is curl with GET / before the same requests.
	curlAfterRoot = "curl-after-root"
)

// cleanEnv is the environment of every measured command: no OS_* or cache
// from the caller's, and a HOME of its own so that no client finds state
// another left.
func cleanEnv(home string, extra ...string) []string {
	return append([]string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LANG=C.UTF-8",
		"HOME=" + home,
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
	}, extra...)
}

func benchCLI(ctx context.Context, c *config, cloud *testenv.Cloud, bins *binaries, peer *api, set *seedSet, work string) (*cliReport, error) {
	alpha := cloud.OSEnv(cloud.AlphaMember)
	home := func(name string) string {
		h := filepath.Join(work, "home-"+name)
		os.MkdirAll(h, 0o700)
		return h
	}
	id := set.ids[0]
	listURL := peer.base + "/v2/images?tag=" + set.tag
	showURL := peer.base + "/v2/images/" + id
	checkList := func(out []byte) error {
		for _, id := range set.ids {
			if !bytes.Contains(out, []byte(id)) {
				return fmt.Errorf("image %s is missing from the list", id)
			}
		}
		return nil
	}
	checkShow := func(out []byte) error {
		if !bytes.Contains(out, []byte(id)) {
			return fmt.Errorf("image %s is not shown", id)
		}
		return nil
	}

	rep := &cliReport{cases: map[string]*cliCase{}}
	help, _ := exec.CommandContext(ctx, bins.glance, "--help").CombinedOutput()
	var noCacheFlag []string
	if bytes.Contains(help, []byte("--no-token-cache")) {
		noCacheFlag = []string{"--no-token-cache"}
	}

	type spec struct {
		key, client, auth string
		env               []string
		list, show        []string
		prepare           []string
		cacheDir          string
	}
	hNo, hCache, hPy := home("nocache"), home("cache"), home("pyglance")
	specs := []spec{
		{key: goNoCache, client: "glance (this project)", auth: "password, token cache off",
			env:  cleanEnv(hNo, append(alpha, "OS_TOKEN_CACHE=false")...),
			list: append(append([]string{bins.glance}, noCacheFlag...), "image-list", "--tag", set.tag),
			show: append(append([]string{bins.glance}, noCacheFlag...), "image-show", id),
			// Whether or not the switch is honoured, every run starts without a cached token.
			prepare: []string{"rm", "-rf", filepath.Join(hNo, ".cache")}, cacheDir: filepath.Join(hNo, ".cache")},
		{key: goCache, client: "glance (this project)", auth: "password, warm token cache",
			env:  cleanEnv(hCache, alpha...),
			list: []string{bins.glance, "image-list", "--tag", set.tag},
			show: []string{bins.glance, "image-show", id}, cacheDir: filepath.Join(hCache, ".cache")},
		{key: goToken, client: "glance (this project)", auth: "token + image URL",
			env:  cleanEnv(home("token"), "OS_IMAGE_API_VERSION=2"),
			list: []string{bins.glance, "--os-auth-token", peer.token, "--os-image-url", peer.base, "image-list", "--tag", set.tag},
			show: []string{bins.glance, "--os-auth-token", peer.token, "--os-image-url", peer.base, "image-show", id}},
		{key: osc, client: "openstack (python-openstackclient)", auth: "password",
			env:  cleanEnv(home("osc"), alpha...),
			list: []string{"/usr/bin/openstack", "image", "list", "--tag", set.tag},
			show: []string{"/usr/bin/openstack", "image", "show", id}},
		{key: pyGlance, client: "glance (python-glanceclient)", auth: "password",
			env:     cleanEnv(hPy, alpha...),
			list:    []string{"/usr/bin/glance", "image-list", "--tag", set.tag},
			show:    []string{"/usr/bin/glance", "image-show", id},
			prepare: []string{"rm", "-rf", filepath.Join(hPy, ".glanceclient")}},
	}
	// curl sends the very requests glance sends with a token, so that the two
	// differ only in the client; without --debug output, the plain ones.
	tokenSpec := specs[2]
	curlArgs := []string{"curl", "-sS", "-f", "-H", "X-Auth-Token: " + peer.token}
	listURLs, err1 := debugURLs(ctx, tokenSpec.list, tokenSpec.env)
	showURLs, err2 := debugURLs(ctx, tokenSpec.show, tokenSpec.env)
	if err1 != nil || err2 != nil {
		rep.notes = append(rep.notes, fmt.Sprintf("curl sends plain requests: the requests of glance --debug could not be read (%v, %v).", err1, err2))
		listURLs, showURLs = []string{listURL}, []string{showURL}
	} else {
		rep.notes = append(rep.notes, fmt.Sprintf("curl sends the GET requests that glance --debug shows for the token rows, on one connection: %s for image-list, %s for image-show.",
			codeList(listURLs, set.tag, id), codeList(showURLs, set.tag, id)))
	}
	specs = append(specs, spec{key: curl, client: "curl", auth: "token",
		env:  cleanEnv(home("curl")),
		list: append(slices.Clone(curlArgs), listURLs...),
		show: append(slices.Clone(curlArgs), showURLs...)})
	// The same after a GET of the version document on the same connection, as
	// a client that discovers the API version first sends them: it shows what
	// a second request on a kept-alive connection costs with this server.
	root := peer.base + "/"
	specs = append(specs, spec{key: curlAfterRoot, client: "curl", auth: "token, GET / first on the same connection",
		env:  cleanEnv(home("curl")),
		list: append(append(slices.Clone(curlArgs), root), listURLs...),
		show: append(append(slices.Clone(curlArgs), root), showURLs...)})
	var jobs []*job
	for _, s := range specs {
		cc := &cliCase{client: s.client, auth: s.auth}
		rep.cases[s.key] = cc
		rep.order = append(rep.order, s.key)
		jobs = append(jobs,
			&job{name: s.client + ", " + s.auth + ": image-list", res: &cc.list,
				cmd: &command{argv: s.list, env: s.env, prepare: s.prepare, check: checkList}},
			&job{name: s.client + ", " + s.auth + ": image-show", res: &cc.show,
				cmd: &command{argv: s.show, env: s.env, prepare: s.prepare, check: checkShow}})
	}
	if err := measureAll(ctx, jobs, c.runs, c.rssRuns, c.timer, work); err != nil {
		return nil, err
	}
	for _, s := range specs {
		cc := rep.cases[s.key]
		switch s.key {
		case goNoCache:
			if n := filesUnder(s.cacheDir); n > 0 {
				rep.notes = append(rep.notes, "The CLI wrote a token cache entry although OS_TOKEN_CACHE=false; every timed run of the 'cache off' row still started without one (the cache folder was removed before each run).")
			}
			if noCacheFlag != nil {
				rep.notes = append(rep.notes, "'Token cache off' runs pass --no-token-cache and OS_TOKEN_CACHE=false.")
			}
		case goCache:
			if filesUnder(s.cacheDir) == 0 {
				rep.notes = append(rep.notes, "The CLI wrote no token cache entry: this build has no token cache, so the 'warm token cache' row logs in with the password on every run, like the 'cache off' row.")
				cc.list.note, cc.show.note = "no cache written", "no cache written"
			}
		}
	}
	return rep, nil
}

// debugURLs runs our glance with --debug and returns the URLs of the GET
// requests it made.
func debugURLs(ctx context.Context, argv, env []string) ([]string, error) {
	cmd := exec.CommandContext(ctx, argv[0], append([]string{"--debug"}, argv[1:]...)...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("glance --debug: %w: %s", err, lastLines(stderr.String(), 3))
	}
	var urls []string
	for _, m := range debugGet.FindAllStringSubmatch(stderr.String(), -1) {
		urls = append(urls, m[1]+m[2])
	}
	if len(urls) == 0 {
		return nil, errors.New("glance --debug shows no GET request")
	}
	return urls, nil
}

// debugGet matches the curl lines of --debug: curl -g -i -X GET 'URL' or URL.
var debugGet = regexp.MustCompile(`(?m)^curl .*-X GET (?:'([^']*)'|([^\s']+))`)

// codeList shows URLs in the report without the run's tag and image ID.
func codeList(urls []string, tag, id string) string {
	q := make([]string, len(urls))
	for i, u := range urls {
		q[i] = "`" + strings.NewReplacer(tag, "TAG", id, "ID").Replace(u) + "`"
	}
	return strings.Join(q, " then ")
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
