package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/go-glance/glance/internal/store"
)

// remoteSource is the image a glance-download import reads: an image of
// the Glance that the Keystone catalog lists for a region, read with the
// importing user's token. What the import changed in the local image's
// metadata is kept, to be undone if it fails.
type remoteSource struct {
	imageID, region, iface, token string

	oldProps              map[string]string
	oldDisk, oldContainer *string
	applied               bool
}

// glanceDownloadProps are the prefixes of the properties copied from the
// remote image (Glance's [glance_download_properties] extra_properties).
var glanceDownloadProps = []string{"hw_", "trait:", "os_distro", "os_secure_boot", "os_type"}

var uuidRE = regexp.MustCompile(`^(?i)(urn:uuid:)?\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$`)

// parseRemote checks a glance-download request as Glance does.
func parseRemote(r *http.Request, req *importRequest) (*remoteSource, error) {
	m := req.Method
	if m.GlanceRegion == nil {
		return nil, errorf(http.StatusBadRequest, "'glance_region' needs to be set for glance-download import method")
	}
	if m.GlanceImageID == nil {
		return nil, errorf(http.StatusBadRequest, "'glance_image_id' needs to be set for glance-download import method")
	}
	if !uuidRE.MatchString(*m.GlanceImageID) {
		return nil, errorf(http.StatusBadRequest, "Remote image id does not look like a UUID: %s", *m.GlanceImageID)
	}
	iface := "public"
	if m.GlanceServiceInterface != nil {
		iface = *m.GlanceServiceInterface
	}
	return &remoteSource{imageID: *m.GlanceImageID, region: *m.GlanceRegion, iface: iface,
		token: r.Header.Get("X-Auth-Token")}, nil
}

// remoteTimeout bounds each metadata call, and the wait for the data's
// first byte and between its bytes.
const remoteTimeout = 60 * time.Second

// remoteClient talks to Keystone and the remote Glance: bounded dialing
// and header waits, no redirects (a redirect could carry the token
// elsewhere), no proxy.
var remoteClient = &http.Client{
	Transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: remoteTimeout,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// remoteJSON GETs url with the token and decodes at most 1 MiB of JSON.
func remoteJSON(ctx context.Context, url, token string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Accept", "application/json")
	resp, err := remoteClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

// remoteEndpoint finds the image endpoint of the source's region and
// interface in the catalog Keystone gives the user's token.
func (s *Server) remoteEndpoint(ctx context.Context, rs *remoteSource) (string, error) {
	notFound := errorf(http.StatusBadRequest, "%s glance endpoint not found for region %s", rs.iface, rs.region)
	if s.cfg.Auth != "keystone" {
		return "", notFound
	}
	var cat struct {
		Catalog []struct {
			Type      string `json:"type"`
			Endpoints []struct {
				Region    string `json:"region"`
				Interface string `json:"interface"`
				URL       string `json:"url"`
			} `json:"endpoints"`
		} `json:"catalog"`
	}
	if err := remoteJSON(ctx, strings.TrimRight(s.cfg.Keystone.AuthURL, "/")+"/auth/catalog", rs.token, &cat); err != nil {
		return "", fmt.Errorf("service catalog: %w", err)
	}
	for _, svc := range cat.Catalog {
		if svc.Type != "image" {
			continue
		}
		for _, ep := range svc.Endpoints {
			if strings.EqualFold(ep.Region, rs.region) && ep.Interface == rs.iface {
				return strings.TrimRight(ep.URL, "/"), nil
			}
		}
	}
	return "", notFound
}

// remoteImage is what glance-download reads of the source image.
type remoteImage map[string]any

func (ri remoteImage) str(k string) string { v, _ := ri[k].(string); return v }

// glanceDownload is the data step of glance-download: the remote image's
// metadata (formats and the properties Glance copies), then its data into
// one store, bounded by its announced size and checked against its
// checksum.
func (s *Server) glanceDownload(ctx context.Context, id string, rs *remoteSource, storeID string) (stored, error) {
	base, err := s.remoteEndpoint(ctx, rs)
	if err != nil {
		return stored{}, err
	}
	var ri remoteImage
	if err := remoteJSON(ctx, base+"/v2/images/"+rs.imageID, rs.token, &ri); err != nil {
		return stored{}, errorf(http.StatusBadRequest, "The remote image %s could not be read.", rs.imageID)
	}
	if st := ri.str("status"); st != "active" {
		return stored{}, errorf(http.StatusConflict, "Source image status should be active instead of %s", st)
	}
	size, ok := ri["size"].(float64)
	if !ok || size < 0 || size > float64(s.cfg.MaxImageSize) {
		return stored{}, errorf(http.StatusBadRequest, "Size attribute of remote image %s could not be determined.", rs.imageID)
	}
	if err := s.applyRemote(ctx, id, rs, ri); err != nil {
		return stored{}, err
	}
	body, err := s.remoteData(ctx, base+"/v2/images/"+rs.imageID+"/file", rs.token)
	if err != nil {
		return stored{}, err
	}
	defer body.Close()
	info, err := s.putDataTo(ctx, storeID, id, &capReader{r: body, left: int64(size)}, int64(size))
	if err != nil {
		return stored{}, err
	}
	if info.Size != int64(size) || !remoteSumMatches(ri, info) {
		s.dropCopies(id, []string{storeID})
		return stored{}, errorf(http.StatusBadRequest, "The data of remote image %s does not match its size or checksum.", rs.imageID)
	}
	return info, nil
}

// remoteSumMatches compares the data's digests with the remote image's
// multihash (when SHA-512) and MD5 checksum; a source announcing neither
// is refused, as its data could not be checked.
func remoteSumMatches(ri remoteImage, info stored) bool {
	checked := false
	if ri.str("os_hash_algo") == "sha512" && ri.str("os_hash_value") != "" {
		if ri.str("os_hash_value") != info.SHA512 {
			return false
		}
		checked = true
	}
	if c := ri.str("checksum"); c != "" {
		if c != info.MD5 {
			return false
		}
		checked = true
	}
	return checked
}

// applyRemote sets the local image's formats and copied properties from
// the remote image, remembering what they were.
func (s *Server) applyRemote(ctx context.Context, id string, rs *remoteSource, ri remoteImage) error {
	_, err := s.meta.UpdateImage(ctx, id, func(im *store.Image) error {
		rs.oldProps = make(map[string]string, len(im.Properties))
		for k, v := range im.Properties {
			rs.oldProps[k] = v
		}
		rs.oldDisk, rs.oldContainer = im.DiskFormat, im.ContainerFormat
		if d := ri.str("disk_format"); d != "" {
			im.DiskFormat = &d
		}
		if c := ri.str("container_format"); c != "" {
			im.ContainerFormat = &c
		}
		for k, v := range ri {
			sv, ok := v.(string)
			if !ok {
				continue
			}
			for _, p := range glanceDownloadProps {
				if strings.HasPrefix(k, p) {
					im.Properties[k] = sv
				}
			}
		}
		rs.applied = true
		return nil
	})
	return err
}

// restore undoes applyRemote on a failed import (import bookkeeping
// properties excepted: the caller sets those).
func (rs *remoteSource) restore(im *store.Image) {
	if !rs.applied {
		return
	}
	for k := range im.Properties {
		if _, had := rs.oldProps[k]; !had && !strings.HasPrefix(k, "os_glance_") {
			delete(im.Properties, k)
		}
	}
	for k, v := range rs.oldProps {
		if !strings.HasPrefix(k, "os_glance_") {
			im.Properties[k] = v
		}
	}
	im.DiskFormat, im.ContainerFormat = rs.oldDisk, rs.oldContainer
}

// remoteData opens the remote image's data; a read that brings nothing for
// remoteTimeout ends it.
func (s *Server) remoteData(ctx context.Context, url, token string) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("X-Auth-Token", token)
	resp, err := remoteClient.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("remote image data: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, errorf(http.StatusBadRequest, "The remote image data could not be read: %s", resp.Status)
	}
	return &idleBody{rc: resp.Body, cancel: cancel, timer: time.AfterFunc(remoteTimeout, cancel)}, nil
}

// idleBody cancels its request when no read completes for remoteTimeout.
type idleBody struct {
	rc     io.ReadCloser
	cancel context.CancelFunc
	timer  *time.Timer
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if !b.timer.Reset(remoteTimeout) && err == nil {
		return n, errors.New("remote image data: no data for too long")
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	b.cancel()
	return b.rc.Close()
}
