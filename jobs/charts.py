"""Training metrics as small server-rendered SVG line charts: one per metric (loss and accuracy do
not share a scale), plotted over time since the first point."""

WIDTH, HEIGHT, PAD = 320, 120, 28
MAX_POINTS = 400  # a long job's metrics are thinned to this many per chart


def metric_chart(metrics):
    """[{"name", "points" (SVG polyline), "dots", "first", "last", "low", "high", "seconds"}] from
    Metric rows (ordered by time)."""
    series = {}
    for metric in metrics:
        series.setdefault(metric.name, []).append((metric.at, metric.value))
    return [_chart(name, points) for name, points in sorted(series.items())]


def _chart(name, points):
    if len(points) > MAX_POINTS:
        step = len(points) / MAX_POINTS
        points = [points[int(i * step)] for i in range(MAX_POINTS)] + [points[-1]]
    start = points[0][0]
    seconds = [(at - start).total_seconds() for at, _ in points]
    values = [value for _, value in points]
    low, high = min(values), max(values)
    span_x = max(seconds[-1], 1)
    span_y = (high - low) or abs(high) or 1
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def xy(t, v):
        return round(PAD + t / span_x * inner_w, 1), round(HEIGHT - PAD - (v - low) / span_y * inner_h, 1)

    coords = [xy(t, v) for t, v in zip(seconds, values)]
    return {
        "name": name, "points": " ".join(f"{x},{y}" for x, y in coords), "dots": coords[-20:],
        "first": values[0], "last": values[-1], "low": low, "high": high, "seconds": int(seconds[-1]),
        "count": len(values), "width": WIDTH, "height": HEIGHT, "pad": PAD,
        "bottom": HEIGHT - PAD, "right": WIDTH - PAD,
    }
