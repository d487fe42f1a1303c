//! Charts rendered to SVG and PNG with plotters, text drawn from the font
//! bundled in assets/ (no system font library). Each chart is plain data plus
//! a `draw` over any plotters backend; tests check the data, not the pixels.

use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// A distinct colour per series, readable on white.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A figure in both formats.
pub struct Rendered {
    pub svg: String,
    pub png: Vec<u8>,
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Something that can draw itself on any plotters backend.
pub trait Chart {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

pub const WIDTH: u32 = 900;
pub const HEIGHT: u32 = 540;

pub fn render<C: Chart>(chart: &C) -> Result<Rendered> {
    REGISTER.call_once(|| {
        // The bundled font is valid; a failure here would be a build defect.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        area.fill(&WHITE).map_err(|e| anyhow!("drawing SVG: {e}"))?;
        chart.draw(&area).map_err(|e| anyhow!("drawing SVG: {e}"))?;
        area.present().map_err(|e| anyhow!("drawing SVG: {e}"))?;
    }
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        area.fill(&WHITE).map_err(|e| anyhow!("drawing PNG: {e}"))?;
        chart.draw(&area).map_err(|e| anyhow!("drawing PNG: {e}"))?;
        area.present().map_err(|e| anyhow!("drawing PNG: {e}"))?;
    }
    let mut png = Vec::new();
    let img =
        image::RgbImage::from_raw(WIDTH, HEIGHT, rgb).ok_or_else(|| anyhow!("PNG buffer size"))?;
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| anyhow!("encoding PNG: {e}"))?;
    Ok(Rendered { svg, png })
}

/// Range with a little headroom; never empty.
fn padded((lo, hi): (f64, f64)) -> (f64, f64) {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    if hi > lo {
        let pad = (hi - lo) * 0.05;
        (lo - pad, hi + pad)
    } else {
        (lo - 0.5 - lo.abs() * 0.1, hi + 0.5 + hi.abs() * 0.1)
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        })
}

fn caption_font() -> (&'static str, u32) {
    ("sans-serif", 22)
}

/// Empirical cumulative distribution functions, one step curve per series.
pub struct Ecdf {
    pub title: String,
    pub x_label: String,
    /// (series name, ECDF points as produced by `metrics::compare::ecdf`).
    pub series: Vec<(String, Vec<(f64, f64)>)>,
}

impl Chart for Ecdf {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (lo, hi) = padded(bounds(
            self.series.iter().flat_map(|s| s.1.iter().map(|p| p.0)),
        ));
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, caption_font())
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, 0.0..1.02)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc("fraction of runs at or below")
            .draw()?;
        for (i, (name, pts)) in self.series.iter().enumerate() {
            let c = color(i);
            let mut steps = Vec::with_capacity(pts.len() * 2 + 2);
            let mut prev = 0.0;
            if let Some(first) = pts.first() {
                steps.push((lo, 0.0));
                steps.push((first.0, 0.0));
            }
            for &(x, f) in pts {
                steps.push((x, prev));
                steps.push((x, f));
                prev = f;
            }
            steps.push((hi, prev));
            chart
                .draw_series(LineSeries::new(steps, c.stroke_width(2)))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
        Ok(())
    }
}

/// Box plots: whiskers at min and max, box from p25 to p75, line at the median.
pub struct BoxPlot {
    pub title: String,
    pub y_label: String,
    /// (group name, [min, p25, p50, p75, max]).
    pub groups: Vec<(String, [f64; 5])>,
}

impl Chart for BoxPlot {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (lo, hi) = padded(bounds(self.groups.iter().flat_map(|g| g.1.into_iter())));
        let names: Vec<String> = self.groups.iter().map(|g| g.0.clone()).collect();
        let mut chart = category_chart(area, &self.title, &self.y_label, &names, (lo, hi))?;
        for (i, (_, [min, q1, med, q3, max])) in self.groups.iter().enumerate() {
            let c = color(i);
            let x = i as f64;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x, *min), (x, *q1)],
                c.stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x, *q3), (x, *max)],
                c.stroke_width(2),
            )))?;
            for w in [*min, *max] {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x - 0.1, w), (x + 0.1, w)],
                    c.stroke_width(2),
                )))?;
            }
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.25, *q1), (x + 0.25, *q3)],
                c.mix(0.3).filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.25, *q1), (x + 0.25, *q3)],
                c.stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x - 0.25, *med), (x + 0.25, *med)],
                BLACK.stroke_width(3),
            )))?;
        }
        Ok(())
    }
}

/// (label, height, optional error bar (low, high)).
pub type Bar = (String, f64, Option<(f64, f64)>);

/// Bars with optional error bars (e.g. a 95% confidence interval).
pub struct Bars {
    pub title: String,
    pub y_label: String,
    pub bars: Vec<Bar>,
}

impl Chart for Bars {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let all = self
            .bars
            .iter()
            .flat_map(|b| [b.1, b.2.map_or(b.1, |c| c.0), b.2.map_or(b.1, |c| c.1)]);
        let (lo, hi) = bounds(all);
        let (lo, hi) = padded((lo.min(0.0), hi));
        let names: Vec<String> = self.bars.iter().map(|b| b.0.clone()).collect();
        let mut chart = category_chart(area, &self.title, &self.y_label, &names, (lo, hi))?;
        for (i, (_, v, ci)) in self.bars.iter().enumerate() {
            let x = i as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.3, 0.0f64.max(lo)), (x + 0.3, *v)],
                color(i).filled(),
            )))?;
            if let Some((a, b)) = ci {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x, *a), (x, *b)],
                    BLACK.stroke_width(2),
                )))?;
                for w in [*a, *b] {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(x - 0.08, w), (x + 0.08, w)],
                        BLACK.stroke_width(2),
                    )))?;
                }
            }
        }
        Ok(())
    }
}

/// (x, mean, band low, band high).
pub type BandPoint = (f64, f64, f64, f64);

/// Lines of a metric's mean against a parameter, with a shaded confidence band.
pub struct Lines {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Plot x on a log10 axis (all x must be > 0).
    pub log_x: bool,
    /// (series name, points (x, mean, band low, band high)).
    pub series: Vec<(String, Vec<BandPoint>)>,
}

impl Chart for Lines {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let tx = |x: f64| if self.log_x { x.log10() } else { x };
        let (xlo, xhi) = padded(bounds(
            self.series.iter().flat_map(|s| s.1.iter().map(|p| tx(p.0))),
        ));
        let (ylo, yhi) = padded(bounds(
            self.series
                .iter()
                .flat_map(|s| s.1.iter().flat_map(|p| [p.1, p.2, p.3])),
        ));
        let log_x = self.log_x;
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, caption_font())
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(xlo..xhi, ylo..yhi)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&|x| {
                if log_x {
                    short(10f64.powf(*x))
                } else {
                    short(*x)
                }
            })
            .draw()?;
        for (i, (name, pts)) in self.series.iter().enumerate() {
            let c = color(i);
            let mut band: Vec<(f64, f64)> = pts.iter().map(|p| (tx(p.0), p.3)).collect();
            band.extend(pts.iter().rev().map(|p| (tx(p.0), p.2)));
            chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.2).filled())))?;
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (tx(p.0), p.1)),
                    c.stroke_width(2),
                ))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
            chart.draw_series(
                pts.iter()
                    .map(|p| Circle::new((tx(p.0), p.1), 3, c.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

/// A grid of values over two parameters, coloured from low (light) to high (dark).
pub struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_ticks: Vec<String>,
    pub y_ticks: Vec<String>,
    /// values[y][x]
    pub values: Vec<Vec<Option<f64>>>,
}

impl Chart for Heatmap {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (nx, ny) = (self.x_ticks.len().max(1), self.y_ticks.len().max(1));
        let (lo, hi) = bounds(self.values.iter().flatten().flatten().copied());
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, caption_font())
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(0.0..nx as f64, 0.0..ny as f64)?;
        let (xt, yt) = (&self.x_ticks, &self.y_ticks);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx * 2 + 1)
            .y_labels(ny * 2 + 1)
            .x_label_formatter(&|x| tick_at(xt, *x))
            .y_label_formatter(&|y| tick_at(yt, *y))
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .draw()?;
        for (yi, row) in self.values.iter().enumerate() {
            for (xi, v) in row.iter().enumerate() {
                let Some(v) = v else { continue };
                let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                let shade = RGBColor(
                    (230.0 - 200.0 * t) as u8,
                    (240.0 - 170.0 * t) as u8,
                    255 - (75.0 * t) as u8,
                );
                let (x, y) = (xi as f64, yi as f64);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    shade.filled(),
                )))?;
                let text_color = if t > 0.55 { WHITE } else { BLACK };
                chart.draw_series(std::iter::once(Text::new(
                    short(*v),
                    (x + 0.35, y + 0.55),
                    ("sans-serif", 15).into_font().color(&text_color),
                )))?;
            }
        }
        Ok(())
    }
}

/// A chart with plain f64 axes.
type CategoryChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Axes for one mark per category: category i at x = i, named below it.
fn category_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    names: &[String],
    (lo, hi): (f64, f64),
) -> Result<CategoryChart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let n = names.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(title, caption_font())
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), lo..hi)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| category_at(names, *x))
        .y_desc(y_label)
        .draw()?;
    Ok(chart)
}

/// The name of the category drawn at integer position `x` (none between them).
fn category_at(names: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 {
        names.get(i as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// Heatmap cells span [i, i+1): their label sits at the centre.
fn tick_at(ticks: &[String], v: f64) -> String {
    category_at(ticks, v - 0.5)
}

/// Points in a plane, the Pareto-optimal ones joined and marked.
pub struct ParetoScatter {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// (label, x, y, on the Pareto front)
    pub points: Vec<(String, f64, f64, bool)>,
}

impl Chart for ParetoScatter {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (xlo, xhi) = padded(bounds(self.points.iter().map(|p| p.1)));
        let (ylo, yhi) = padded(bounds(self.points.iter().map(|p| p.2)));
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, caption_font())
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d(xlo..xhi, ylo..yhi)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .draw()?;
        let mut front: Vec<(f64, f64)> = self
            .points
            .iter()
            .filter(|p| p.3)
            .map(|p| (p.1, p.2))
            .collect();
        front.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(front.clone(), color(3).stroke_width(2)))?
            .label("Pareto front")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color(3).stroke_width(2)));
        chart
            .draw_series(
                self.points
                    .iter()
                    .filter(|p| !p.3)
                    .map(|p| Circle::new((p.1, p.2), 4, color(0).filled())),
            )?
            .label("dominated")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, color(0).filled()));
        chart.draw_series(
            front
                .iter()
                .map(|&(x, y)| Circle::new((x, y), 6, color(3).filled())),
        )?;
        for p in self.points.iter().filter(|p| p.3) {
            chart.draw_series(std::iter::once(Text::new(
                p.0.clone(),
                (p.1, p.2),
                ("sans-serif", 13).into_font(),
            )))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

/// A compact number for axis labels.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}
