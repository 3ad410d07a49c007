package main

import (
	"fmt"
	"image/color"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// series is one line of a plot.
type series struct {
	name string
	xs   []float64
	ys   []float64
}

var lineColors = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xd6, 0x27, 0x28, 0xff},
	color.RGBA{0x2c, 0xa0, 0x2c, 0xff}, color.RGBA{0xff, 0x7f, 0x0e, 0xff},
}

// linePlot draws the series on logarithmic axes (both grow by orders of
// magnitude) into dir/name as PNG and returns the file's path.
func linePlot(dir, name, title, xLabel, yLabel string, lines ...series) (string, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	for i, s := range lines {
		pts := make(plotter.XYs, 0, len(s.xs))
		for j := range s.xs {
			if s.xs[j] > 0 && s.ys[j] > 0 { // a log axis has no room for 0
				pts = append(pts, plotter.XY{X: s.xs[j], Y: s.ys[j]})
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return "", fmt.Errorf("plot %s: %w", name, err)
		}
		l.Color = lineColors[i%len(lineColors)]
		sc.Color = l.Color
		p.Add(l, sc)
		p.Legend.Add(s.name, l, sc)
	}
	p.Legend.Top, p.Legend.Left = true, true
	widenLog(&p.X)
	widenLog(&p.Y)
	path := filepath.Join(dir, name)
	if err := p.Save(7*vg.Inch, 4.5*vg.Inch, path); err != nil {
		return "", fmt.Errorf("plot %s: %w", name, err)
	}
	return path, nil
}

// widenLog gives a log axis holding one value (a single size measured) a
// range around it: gonum would widen it by ±1, which reaches 0 for values
// up to 1, and a log scale has no 0.
func widenLog(a *plot.Axis) {
	if a.Min == a.Max && a.Min > 0 {
		a.Min, a.Max = a.Min/2, a.Max*2
	}
}

// plotGrowth draws the growth tables: list times and memory against the
// number of images, transfer times and memory against the image size.
func plotGrowth(g *growthReport, dir string) error {
	var n, all, first, filt, rss []float64
	for _, r := range g.counts {
		n = append(n, float64(r.images))
		all = append(all, r.pageAll.Seconds()*1000)
		first = append(first, r.firstPage.Seconds()*1000)
		filt = append(filt, r.filtered.Seconds()*1000)
		rss = append(rss, mib(r.rss))
	}
	var sz, up, down, hwm []float64
	for _, r := range g.sizes {
		sz = append(sz, mib(r.size))
		up = append(up, r.upload.Seconds())
		down = append(down, r.dnload.Seconds())
		hwm = append(hwm, mib(r.hwm))
	}
	for _, pl := range []struct {
		name, title, x, y string
		lines             []series
	}{
		{"list-time.png", "glanced: image-list time by number of images", "images", "milliseconds",
			[]series{{"every image (pages of 1000)", n, all}, {"default page (25)", n, first}, {"filter tag= (1 in 100), every page", n, filt}}},
		{"memory-images.png", "glanced: resident memory by number of images", "images", "MiB (VmRSS after the lists)",
			[]series{{"glanced", n, rss}}},
		{"transfer-time.png", "glanced: upload and download time by image size", "image size, MiB", "seconds",
			[]series{{"upload (PUT .../file)", sz, up}, {"download (GET .../file)", sz, down}}},
		{"memory-size.png", "glanced: peak memory by image size", "image size, MiB", "MiB (VmHWM)",
			[]series{{"glanced", sz, hwm}}},
	} {
		if len(pl.lines[0].xs) == 0 {
			continue
		}
		path, err := linePlot(dir, pl.name, pl.title, pl.x, pl.y, pl.lines...)
		if err != nil {
			return err
		}
		g.plots = append(g.plots, path)
	}
	return nil
}
