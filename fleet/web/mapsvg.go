package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"net/url"
	"strings"
)

// mapData is what the map page draws.
type mapData struct {
	Nodes    []MapNode
	Links    []MapLink
	Unplaced int
	TileURL  string
	Base     string
}

// mercator projects a location on the unit square (Web Mercator, as
// map tiles are drawn).
func mercator(lat, lon float64) (x, y float64) {
	r := lat * math.Pi / 180
	return (lon + 180) / 360, (1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2
}

// mapSVG draws the nodes at their locations and the links between them,
// over map tiles when a tile URL is set.
func mapSVG(d mapData) template.HTML {
	const W, H = 800.0, 500.0
	if len(d.Nodes) == 0 {
		return ""
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	pos := map[string][2]float64{}
	for _, n := range d.Nodes {
		x, y := mercator(n.Lat, n.Lon)
		pos[n.ID] = [2]float64{x, y}
		minX, minY, maxX, maxY = min(minX, x), min(minY, y), max(maxX, x), max(maxY, y)
	}
	// At least a few hundred metres across; a margin round the nodes.
	const minSpan = 1.0 / (1 << 16)
	cx, cy := (minX+maxX)/2, (minY+maxY)/2
	sx, sy := max(maxX-minX, minSpan)*1.25, max(maxY-minY, minSpan)*1.25
	scale := min(W/sx, H/sy) // pixels per world unit
	px := func(x, y float64) (float64, float64) { return W/2 + (x-cx)*scale, H/2 + (y-cy)*scale }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="map" viewBox="0 0 %.0f %.0f" role="group" aria-label="map of %d nodes and %d links">`, W, H, len(d.Nodes), len(d.Links))
	if d.TileURL != "" {
		z := int(math.Floor(math.Log2(scale / 256)))
		z = max(0, min(z, 19))
		n := float64(int(1) << z)
		size := scale / n
		x0, y0 := int(math.Floor((cx-W/2/scale)*n)), int(math.Floor((cy-H/2/scale)*n))
		x1, y1 := int(math.Floor((cx+W/2/scale)*n)), int(math.Floor((cy+H/2/scale)*n))
		count := 0
		for ty := max(y0, 0); ty <= min(y1, int(n)-1) && count < 100; ty++ {
			for tx := x0; tx <= x1 && count < 100; tx++ {
				wx := ((tx%int(n))+int(n))%int(n) + 0
				u := strings.NewReplacer("{z}", fmt.Sprint(z), "{x}", fmt.Sprint(wx), "{y}", fmt.Sprint(ty)).Replace(d.TileURL)
				X, Y := px(float64(tx)/n, float64(ty)/n)
				fmt.Fprintf(&b, `<image href="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" aria-hidden="true"/>`, html.EscapeString(u), X, Y, size+0.5, size+0.5)
				count++
			}
		}
	} else {
		fmt.Fprintf(&b, `<rect class="sea" width="%.0f" height="%.0f"/>`, W, H)
	}
	for _, l := range d.Links {
		a, c := pos[l.A], pos[l.B]
		x1, y1 := px(a[0], a[1])
		x2, y2 := px(c[0], c[1])
		cls, dash := "link", ""
		if l.SignalDBM < -75 {
			cls, dash = "link weak", ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<g class="%s"><title>%s ↔ %s: %.0f dBm</title><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"%s/><text x="%.1f" y="%.1f">%.0f dBm</text></g>`,
			cls, html.EscapeString(l.A), html.EscapeString(l.B), l.SignalDBM, x1, y1, x2, y2, dash, (x1+x2)/2, (y1+y2)/2-3, l.SignalDBM)
	}
	for _, n := range d.Nodes {
		x, y := px(pos[n.ID][0], pos[n.ID][1])
		word := n.Status
		shape := fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="7"/>`, x, y)
		cls := "node on"
		switch {
		case n.Status != "online":
			cls = "node off"
			shape = fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="14" height="14"/><path d="M%.1f %.1fl8 8m0 -8l-8 8"/>`, x-7, y-7, x-4, y-4)
		case n.Problem:
			cls, word = "node bad", "online, failing"
			shape = fmt.Sprintf(`<path d="M%.1f %.1fl8 14h-16z"/>`, x, y-9)
		}
		fmt.Fprintf(&b, `<a href="%s/node/%s" class="%s" data-node="%s"><title>%s: %s</title>%s<text x="%.1f" y="%.1f">%s</text></a>`,
			html.EscapeString(d.Base), html.EscapeString(url.PathEscape(n.ID)), cls, html.EscapeString(n.ID), html.EscapeString(n.ID), word, shape, x+10, y+4, html.EscapeString(n.ID))
	}
	b.WriteString("</svg>")
	return template.HTML(b.String())
}
