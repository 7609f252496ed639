package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Charts are inline SVG drawn here, on the server: no charting library,
// no script needed to read them. Lines differ by dash pattern as well as
// colour, and every chart says its latest, lowest and highest values in
// text.

// dashes tell lines apart without colour.
var dashes = []string{"", "6 3", "2 3", "8 3 2 3"}

// sparkline draws a row's small chart of vals (NaN: no point).
func sparkline(label string, vals []float64) template.HTML {
	const w, h = 96, 20
	lo, hi, last, n := span(vals)
	var b strings.Builder
	desc := "no data yet"
	if n > 0 {
		desc = fmt.Sprintf("last %s, highest %s", num(last), num(hi))
	}
	fmt.Fprintf(&b, `<svg class="spark" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s: %s" data-points="%d">`,
		w, h, w, h, html.EscapeString(label), desc, n)
	if n > 0 {
		lo = min(lo, 0)
		path(&b, vals, lo, hi, 0, 1, w-1, h-2, "")
	}
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

// span returns the lowest, highest and last values of vals and how many
// are numbers.
func span(vals []float64) (lo, hi, last float64, n int) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		lo, hi, last = min(lo, v), max(hi, v), v
		n++
	}
	if n == 0 {
		return 0, 0, 0, 0
	}
	return lo, hi, last, n
}

// path draws vals as polylines (split where a point is missing) in the
// box x0,y0 .. x0+w,y0+h scaled lo..hi; lone points become dots.
func path(b *strings.Builder, vals []float64, lo, hi, x0, y0, w, h float64, dash string) {
	if hi <= lo {
		hi = lo + 1
	}
	step := w / float64(max(len(vals)-1, 1))
	var seg [][2]float64
	flush := func() {
		switch len(seg) {
		case 0:
		case 1:
			fmt.Fprintf(b, `<circle class="dot" cx="%.1f" cy="%.1f" r="2.5"/>`, seg[0][0], seg[0][1])
		default:
			b.WriteString(`<polyline class="line" fill="none" points="`)
			for i, p := range seg {
				if i > 0 {
					b.WriteByte(' ')
				}
				fmt.Fprintf(b, "%.1f,%.1f", p[0], p[1])
			}
			b.WriteByte('"')
			if dash != "" {
				fmt.Fprintf(b, ` stroke-dasharray="%s"`, dash)
			}
			b.WriteString("/>")
		}
		seg = seg[:0]
	}
	for i, v := range vals {
		if math.IsNaN(v) {
			flush()
			continue
		}
		seg = append(seg, [2]float64{x0 + float64(i)*step, y0 + h - (v-lo)/(hi-lo)*h})
	}
	flush()
}

// chart draws a node page's chart: step says how long one point is.
func chart(c Chart, stepLabel string) template.HTML {
	const w, h, left, right, top, bottom = 600, 170, 56, 8, 8, 22
	lo, hi := math.Inf(1), math.Inf(-1)
	points := 0
	for _, l := range c.Lines {
		l0, h0, _, n := span(l.Values)
		if n > 0 {
			lo, hi = min(lo, l0), max(hi, h0)
			points += n
		}
	}
	if points == 0 {
		lo, hi = 0, 1
	}
	if lo > 0 && c.Unit != "dBm" {
		lo = 0
	}
	if hi <= lo {
		hi = lo + 1
	}
	var b strings.Builder
	title := html.EscapeString(c.Title)
	fmt.Fprintf(&b, `<figure class="chart"><figcaption>%s</figcaption>`, title)
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" role="img" data-points="%d">`, w, h, points)
	fmt.Fprintf(&b, `<title>%s</title>`, title)
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	for i := 0; i <= 2; i++ {
		v := lo + (hi-lo)*float64(i)/2
		y := float64(top) + ph - ph*float64(i)/2
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`,
			left, w-right, y, y, left-4, y+4, html.EscapeString(num(v)+unitSuffix(c.Unit)))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d">−%s</text><text class="axis" x="%d" y="%d" text-anchor="end">now</text>`,
		left, h-4, html.EscapeString(stepLabel), w-right, h-4)
	for i, l := range c.Lines {
		fmt.Fprintf(&b, `<g class="s%d">`, i%len(dashes))
		path(&b, l.Values, lo, hi, left, top, pw, ph, dashes[i%len(dashes)])
		b.WriteString("</g>")
	}
	b.WriteString("</svg>")
	// The legend and the numbers, in text.
	b.WriteString(`<ul class="legend">`)
	for i, l := range c.Lines {
		l0, h0, last, n := span(l.Values)
		fmt.Fprintf(&b, `<li><svg class="key s%d" width="28" height="8" aria-hidden="true"><line x1="0" x2="28" y1="4" y2="4"`, i%len(dashes))
		if d := dashes[i%len(dashes)]; d != "" {
			fmt.Fprintf(&b, ` stroke-dasharray="%s"`, d)
		}
		fmt.Fprintf(&b, `/></svg> %s: `, html.EscapeString(l.Name))
		if n == 0 {
			b.WriteString("no data yet")
		} else {
			u := unitSuffix(c.Unit)
			fmt.Fprintf(&b, "now %s, low %s, high %s", html.EscapeString(num(last)+u), html.EscapeString(num(l0)+u), html.EscapeString(num(h0)+u))
		}
		b.WriteString("</li>")
	}
	b.WriteString("</ul></figure>")
	return template.HTML(b.String())
}

func unitSuffix(u string) string {
	switch u {
	case "":
		return ""
	case "%":
		return "%"
	}
	return " " + u
}

// num prints a number shortly: 0.42, 12.5, 3.4k, 1.2M, 5.0G.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
