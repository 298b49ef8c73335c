"""The stage default's ensemble weights (trees, LEAR, DNN on horizon day 1), chosen on the
validation years of BE and PJM together, and the default's score on their test periods.

    uv run python benchmarks/family_weights.py            # reads benchmarks/results/*_{be,pjm}_{val,test}.parquet

A stage default serves every zone, so its weights are one point of the simplex (a 0.05 grid) for
both markets: the lowest mean rMAE over their validation forecasts (the 364 days before each test
period; LEAR's validation forecasts are 91 evenly spaced days of it, so the choice is made on the
days every member forecast). The test period never informs it. The script then applies the
weights the stage actually uses (``spotcast_train.builtins.xgboost.STAGE_SETTINGS``) to the
members' test forecasts, prints MAE, rMAE, sMAPE and RMSE beside the published ensembles and each
member's own score, and says whether the stage's weights are the ones chosen here.

The members' forecasts come from `benchmarks/epf.py` (`--model trees|lear|dnn --save-predictions`,
with `--validation` for the validation year); benchmarks/README.md lists the commands. They are
the stage's own member code with the benchmark's schedules (LEAR refitted daily, trees and DNN
weekly) and the epftoolbox design (with the exogenous lags the stage's `price_features` v1 lacks).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from spotcast_train import ensemble
from spotcast_train.builtins.xgboost import STAGE_SETTINGS
from spotcast_train.epf import PUBLISHED, TARGET, align_members, score

MEMBERS = ("trees", "lear", "dnn")
MARKETS = ("be", "pjm")
RESULTS = Path(__file__).resolve().parent / "results"


def stage_weights() -> dict[str, float]:
    """The weights `spotcast-train fit` blends with by default (the trees keep the rest)."""
    lin = STAGE_SETTINGS.linear.weight if STAGE_SETTINGS.linear is not None else 0.0
    dnn = STAGE_SETTINGS.dnn.weight if STAGE_SETTINGS.dnn is not None else 0.0
    return {"trees": round(1 - lin - dnn, 10), "lear": lin, "dnn": dnn}


def members(results: Path, market: str, period: str) -> pd.DataFrame:
    """The members' forecasts of one market and period on the hours every member forecast."""
    frames = {}
    for name in MEMBERS:
        path = results / f"{name}_{market}_{period}.parquet"
        if not path.exists():
            raise SystemExit(f"{path} is missing: run benchmarks/epf.py --model {name} --save-predictions {path}"
                             f"{' --validation' if period == 'val' else ''} (benchmarks/README.md)")
        frames[name] = pd.read_parquet(path)
    return align_members(frames)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=RESULTS, help="folder of the members' saved forecasts")
    ap.add_argument("--step", type=float, default=0.05, help="grid step of the weights")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object with the results")
    args = ap.parse_args(argv)

    val = {m: members(args.results, m, "val") for m in MARKETS}
    pooled = []
    for v in val.values():
        y = v[TARGET].to_numpy()
        naive = float(np.nanmean(np.abs(v["price_lag_7d"].to_numpy() - y)))
        pooled.append(({n: v[n].to_numpy() for n in MEMBERS}, y, naive))
    chosen = ensemble.fit_pooled_weights(pooled, step=args.step)
    used = stage_weights()
    same = all(abs(chosen[n] - used[n]) < 1e-9 for n in MEMBERS)
    days = {m: v["origin"].nunique() for m, v in val.items()}
    print(f"weights chosen on the validation years ({', '.join(f'{m.upper()} {d} days' for m, d in days.items())}; "
          f"lowest mean rMAE, step {args.step}): " + ", ".join(f"{n} {w:.2f}" for n, w in chosen.items()))
    print("stage default (STAGE_SETTINGS): " + ", ".join(f"{n} {w:.2f}" for n, w in used.items())
          + ("  = the choice above" if same else "  DIFFERS from the choice above"))

    out: dict[str, object] = {"chosen": chosen, "stage": used, "stage_is_choice": same, "validation_days": days}
    for m in MARKETS:
        t = members(args.results, m, "test")
        t["p50"] = ensemble.combine({n: t[n].to_numpy() for n in MEMBERS}, used)
        res = score(t)
        parts = {n: score(t.assign(p50=t[n])) for n in MEMBERS}
        print(f"\n{m.upper()} test period, {res['days']} days")
        print(f"{'model':<34}{'MAE':>8}{'rMAE':>8}{'sMAPE%':>9}{'RMSE':>9}")
        for name, (mae, rmae, smape, rmse) in PUBLISHED[m.upper()].items():
            print(f"{name + ' (published)':<34}{mae:>8.3f}{rmae:>8.3f}{smape:>9.2f}{rmse:>9.3f}")
        for name, r in {**{f'member {n}': parts[n] for n in MEMBERS}, "stage default (weights above)": res}.items():
            print(f"{name:<34}{r['mae']:>8.3f}{r['rmae']:>8.3f}{r['smape']:>9.2f}{r['rmse']:>9.3f}")
        dnn_pub = PUBLISHED[m.upper()]["DNN ensemble"][0]
        print(f"against the published DNN ensemble: {100 * (res['mae'] / dnn_pub - 1):+.1f}% MAE")
        out[m] = {k: round(float(res[k]), 4) for k in ("mae", "rmae", "smape", "rmse")} | {
            "members": {n: round(float(parts[n]["mae"]), 4) for n in MEMBERS}, "days": int(res["days"])}
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
