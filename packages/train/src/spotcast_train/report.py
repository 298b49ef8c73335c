"""The backtest report: Markdown with PNG plots, readable without spotcast installed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from spotcast_storage.lineage import Lineage
from spotcast_train.evaluate import RMAE_REFERENCE

if TYPE_CHECKING:
    from spotcast_train.service import BacktestResult


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append("" if pd.isna(v) else f"{v:.3f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_mae_by_horizon(table: pd.DataFrame, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_day = table[table["horizon_day"] > 0].pivot(index="horizon_day", columns="model", values="mae")
    fig, ax = plt.subplots(figsize=(7, 4))
    for model in per_day.columns:
        ax.plot(per_day.index, per_day[model], marker="o", label=model,
                linestyle="--" if str(model).startswith("naive") else "-")
    ax.set_xlabel("horizon day")
    ax.set_ylabel("MAE, EUR/MWh")
    ax.set_title("MAE by horizon day")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_forecasts(forecasts: pd.DataFrame, model: str, path: Path, horizon_day: int = 1) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = forecasts[(forecasts["model"] == model) & (forecasts["horizon_day"] == horizon_day)].sort_values("ts")
    fig, ax = plt.subplots(figsize=(10, 4))
    if {"p10", "p90"} <= set(f.columns) and f["p10"].notna().any():
        ax.fill_between(f["ts"], f["p10"], f["p90"], alpha=0.25, label="p10-p90", step="post")
    ax.plot(f["ts"], f["p50"], label=f"{model} p50", linewidth=1)
    ax.plot(f["ts"], f["actual"], label="actual", linewidth=1, color="black")
    ax.set_ylabel("EUR/MWh")
    ax.set_title(f"{model}: forecasts for horizon day {horizon_day}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(r: BacktestResult, folder: Path, lineage: Lineage | None = None) -> Path:
    """``<folder>/<run_id>.md`` plus two PNGs beside it; returns the Markdown path."""
    folder.mkdir(parents=True, exist_ok=True)
    mae_png = plot_mae_by_horizon(r.table, folder / f"{r.run_id}-mae.png")
    fc_png = plot_forecasts(r.forecasts, r.model, folder / f"{r.run_id}-forecasts.png")
    overall = r.table[r.table["horizon_day"] == 0].drop(columns=["horizon_day"])
    per_day = r.table[r.table["horizon_day"] > 0].pivot(index="horizon_day", columns="model", values="mae")
    per_day = per_day.reset_index().rename(columns={"horizon_day": "horizon day"})
    per_day.columns = [str(c) if c == "horizon day" else f"MAE {c}" for c in per_day.columns]
    origins = r.forecasts["origin"].nunique()
    groups = ", ".join(f"{g.name} v{g.version} (commit {g.commit_id})"
                       for g in (lineage.feature_groups if lineage is not None else ()))
    quarter_section = ""
    if r.table_15min is not None and not r.table_15min.empty:
        quarter_section = ("\n## At 15 minutes\n\nThe forecasts as the quarter-hours serve publishes (a mean-"
                           "preserving ramp) against the 15-minute prices, beside the hourly forecast repeated in "
                           "its quarters; horizon day 0 is all days.\n\n" + _md_table(r.table_15min) + "\n")
    text = f"""# Backtest {r.run_id}

**{r.verdict}.**

- zone {r.zone}, model `{r.model}`, {origins} origins from {r.start:%Y-%m-%d} to {r.end:%Y-%m-%d} (end exclusive)
- rolling origin: at each origin the models train only on rows whose actual price was published by then;
  recalibration {r.recalibrate}, training window {f'{r.window_days} days' if r.window_days else 'all history'}
- rMAE = MAE / MAE of `{RMAE_REFERENCE}` (same hour one week before the target) on the same rows
- data: {groups or 'n/a'}

## Overall

{_md_table(overall)}

## MAE by horizon day

{_md_table(per_day)}

![MAE by horizon day]({mae_png.name})
{quarter_section}
## Day-ahead forecasts (horizon day 1)

![forecasts]({fc_png.name})

Rows are also in the store: `select * from backtests where run_id = '{r.run_id}'` and
`select * from backtest_metrics where run_id = '{r.run_id}'`.
"""
    path = folder / f"{r.run_id}.md"
    path.write_text(text)
    return path
