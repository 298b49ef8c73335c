"""epftoolbox protocol on a CSV in the epftoolbox layout, with spotcast-train's own model code.

    uv run python benchmarks/epf.py ../shared/data/epf/BE.csv --recalibrate weekly [--json]
    uv run python benchmarks/epf.py ../shared/data/epf/PJM.csv --validation   # choose settings here

The last 728 days are the test period: each day d is forecast from prices up to d-1 and the
exogenous forecasts of d (and earlier days), with the model retrained on all earlier days every
``--recalibrate`` days. Printed: MAE, rMAE (weekly naive, first 7 test days dropped from the
naive's MAE), sMAPE, RMSE, beside the published LEAR and DNN ensembles when the file is BE or
PJM, and the wall-clock and CPU time of the run. ``--validation`` runs the same protocol on the
364 days *before* the test period instead: that is where the default settings were chosen, so
the test period never informed them. With ``--json`` the last line is one JSON object.

``--model`` picks what is scored: ``blend`` (the default, as in spotcast-train's default model:
the average ``(1 - w) * trees + w * linear`` that a Predictor with linear members computes),
``trees`` (the XGBoost members alone) or ``linear`` (the LEAR-style gblinear members of
``spotcast_train.linear`` alone). With the same
recalibration for both parts a blend is one Predictor per origin, exactly what the stage fits;
``--linear-recalibrate`` gives the linear part its own schedule (then the two parts run as two
rolling loops and their forecasts are combined with the same ``blend`` rule), and
``--trees-predictions FILE`` reuses the trees' forecasts saved by an earlier run of this script
(``--save-predictions``) instead of refitting them. ``default`` is the stage's default model
exactly as `spotcast-train fit` builds it (``builtins.xgboost.STAGE_SETTINGS``: trees, LEAR and
DNN members in one Predictor, all refitted every ``--recalibrate`` days).

``--jobs N`` (with ``--nthread 1``) splits the period into N runs of whole refit blocks, one
worker process each: the same models fitted at the same origins, so the same forecasts, in about
1/N of the wall time on N cores; CPU seconds and peak memory include the workers'.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see spotcast_train/__init__.py

import pandas as pd

from _common import machine
from spotcast_train import dnn as dnn_model
from spotcast_train import ensemble as ensemble_model
from spotcast_train import lear as lear_model
from spotcast_train.builtins import xgboost as builtin
from spotcast_train.epf import (
    PUBLISHED,
    align_members,
    epf_feature_names,
    evaluate,
    forecast_rows,
    period_indices,
    period_origins,
    read_epf_csv,
    score,
)
from spotcast_train.linear import LinearSettings, blend_frames, fit_linear
from spotcast_train.rolling import describe_recalibrate, parse_recalibrate
from spotcast_train.xgbmodel import XGBSettings, fit_xgb

BUDGET_SECONDS = 15 * 60

# Chosen on the validation year (the 364 days before each test period) of BE and PJM; see
# benchmarks/README.md, section "train", for the comparisons that led here.
# These are spotcast-train's defaults (trees plus linear members); only the point forecast is scored here.
DEFAULT = XGBSettings(quantiles=(0.5,))
LINEAR = LinearSettings()


FAMILIES = ("lear", "dnn", "ensemble")


WORKERS = {"cpu": 0.0, "peak_mb": 0.0}
"""``--jobs``' worker processes: their CPU seconds and largest peak RSS, as the runs report them."""


def _cpu() -> float:
    """CPU seconds of this process and of the ``--jobs`` workers that ran so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime + WORKERS["cpu"]


def _peak_mb() -> float:
    """The peak resident set size of this process, or of its largest worker if larger (Linux
    reports ru_maxrss in KiB; with ``--jobs N`` the N workers run at once, so the machine held up
    to N times a worker's peak)."""
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, WORKERS["peak_mb"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", type=Path, help="CSV in the epftoolbox layout (e.g. ../shared/data/epf/BE.csv)")
    ap.add_argument("--recalibrate", default="weekly", help="daily | weekly | never | Nd (default weekly)")
    ap.add_argument("--validation", action="store_true", help="evaluate on the 364 days before the test period")
    ap.add_argument("--max-days", type=int, default=None, help="stop after this many days (quick checks)")
    ap.add_argument("--windows", default=",".join(map(str, DEFAULT.windows_days)),
                    help="training windows in days, comma-separated; one ensemble member each")
    ap.add_argument("--rounds", type=int, default=DEFAULT.num_boost_round)
    ap.add_argument("--eta", type=float, default=DEFAULT.eta)
    ap.add_argument("--depth", type=int, default=DEFAULT.max_depth)
    ap.add_argument("--objective", default=DEFAULT.objective, choices=["squared", "quantile"])
    ap.add_argument("--transform", default=DEFAULT.transform, choices=["asinh", "identity"])
    ap.add_argument("--no-profile", action="store_true",
                    help="leave out the 24 prices of d-1 as features (spotcast's price_features has none)")
    ap.add_argument("--nthread", type=int, default=DEFAULT.nthread)
    ap.add_argument("--jobs", type=int, default=1,
                    help="split the period over this many processes, whole refit blocks each (same forecasts; "
                    "use --nthread 1 with --jobs 2 on two cores)")
    ap.add_argument("--model", default="blend", choices=["trees", "linear", "blend", "default", *FAMILIES],
                    help="blend (default: the stage's default model, trees + linear members), trees, the "
                    "linear member alone, lear (LEAR as published, daily recalibration), dnn (the epftoolbox DNN design), "
                    "ensemble (members' saved forecasts combined with weights fixed on the validation year)")
    ap.add_argument("--days", type=int, default=None,
                    help="sample mode: N days evenly spaced over the period instead of every day")
    ap.add_argument("--resume", action="store_true",
                    help="with --save-predictions: keep the days already in that file and forecast only the rest")
    ap.add_argument("--lear-windows", default=",".join(map(str, lear_model.WINDOWS)),
                    help="LEAR calibration windows in days (default 56,84,1092,1456), averaged")
    ap.add_argument("--lear-exo-lags", default=",".join(map(str, lear_model.EXO_LAGS)),
                    help="past days of each exogenous series in the LEAR design (default 1,7 as the paper)")
    ap.add_argument("--alpha-mode", default="published", choices=["published", "aic"],
                    help="LEAR penalty: as the published forecasts (LARS-AIC on the normalised design) or plain AIC")
    ap.add_argument("--dnn-seeds", default="0,1", help="DNN members (one network per seed), averaged")
    ap.add_argument("--dnn-hidden", default="256,128", help="the two hidden layers' widths")
    ap.add_argument("--dnn-window", type=int, default=dnn_model.DnnSettings.window_days,
                    help="the DNN's training window in days (fewer where the history is shorter)")
    ap.add_argument("--dnn-alpha", type=float, default=dnn_model.DnnSettings.alpha, help="the DNN's L2 penalty")
    ap.add_argument("--dnn-learning-rate", type=float, default=dnn_model.DnnSettings.learning_rate)
    ap.add_argument("--member", action="append", default=[], metavar="NAME=TEST.parquet,VALIDATION.parquet",
                    help="ensemble member: its saved test and validation forecasts (--save-predictions of "
                    "this script); repeat for each member")
    ap.add_argument("--weight-step", type=float, default=0.05, help="grid step of the ensemble weights")
    ap.add_argument("--linear-weight", type=float, default=LINEAR.weight, help="w in (1-w)*trees + w*linear")
    ap.add_argument("--linear-recalibrate", default=None,
                    help="recalibration of the linear part (default: the same as --recalibrate)")
    ap.add_argument("--linear-windows", default=",".join(map(str, LINEAR.windows_days)))
    ap.add_argument("--linear-alpha", type=float, default=LINEAR.alpha)
    ap.add_argument("--linear-rounds", type=int, default=LINEAR.num_boost_round)
    ap.add_argument("--trees-predictions", type=Path, default=None,
                    help="use the trees' forecasts saved by --save-predictions of an earlier run (same period)")
    ap.add_argument("--save-predictions", type=Path, default=None,
                    help="write the per-origin forecasts (origin, ts, target, p50, fitted_at) to this parquet file")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object with the results")
    args = ap.parse_args(argv)
    if args.resume and args.save_predictions is None:
        ap.error("--resume needs --save-predictions PATH (the file to continue)")
    if args.jobs < 1:
        ap.error(f"--jobs {args.jobs}: give 1 or more processes")
    if args.jobs > 1 and args.model in FAMILIES:
        ap.error(f"--jobs is for the rolling models (trees, linear, blend, default), not --model {args.model}")
    if args.model in FAMILIES:
        return run_family(args)

    settings = DEFAULT.with_(windows_days=tuple(int(w) for w in args.windows.split(",")),
                             num_boost_round=args.rounds, eta=args.eta, max_depth=args.depth,
                             objective=args.objective, transform=args.transform, nthread=args.nthread)
    every = parse_recalibrate(args.recalibrate)
    lin_every = parse_recalibrate(args.linear_recalibrate) if args.linear_recalibrate else every
    linear = LINEAR.with_(windows_days=tuple(int(w) for w in args.linear_windows.split(",")),
                          alpha=args.linear_alpha, num_boost_round=args.linear_rounds, weight=args.linear_weight)
    data = read_epf_csv(args.path)
    from spotcast_train.epf import epf_features

    features = epf_feature_names(epf_features(data).head(1))
    if args.no_profile:
        features = [f for f in features if not f.startswith("price_lag_1d_h")]
    target = "target_price_eur_mwh"

    def fit_trees(frame, origin):
        return fit_xgb(frame, features, target, "origin", settings, until=origin)

    def fit_lin(frame, origin):
        return fit_linear(frame, target, "origin", linear, until=origin)

    def fit_both(frame, origin):  # one Predictor with tree and linear members: what the stage fits
        return fit_xgb(frame, features, target, "origin", settings.with_(linear=linear), until=origin)

    # the stage's default model as `spotcast-train fit` builds it (the ensemble of families: trees,
    # LEAR and DNN members in one Predictor, refitted together), point forecast only
    stage = builtin.STAGE_SETTINGS.with_(quantiles=(0.5,), nthread=args.nthread)

    def fit_default(frame, origin):
        return fit_xgb(frame, features, target, "origin", stage, until=origin)

    done = {"n": 0}

    def progress(k: int, n: int) -> None:
        if not args.json and (k % 28 == 0 or k == n):
            print(f"  {k}/{n} days", file=sys.stderr, flush=True)
        done["n"] = k

    def run(fit, recal):
        pred, res = evaluate(data, fit, recalibrate=recal, validation=args.validation, max_days=args.max_days,
                             progress=progress, sample=args.days, jobs=args.jobs)
        WORKERS["cpu"] += pred.attrs.get("worker_cpu_seconds", 0.0)
        WORKERS["peak_mb"] = max(WORKERS["peak_mb"], pred.attrs.get("worker_peak_rss_mb", 0.0))
        return pred, res

    w0, c0 = time.perf_counter(), _cpu()
    parts: dict[str, dict] = {}
    if args.model == "default":
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.nthread)  # BLAS of LEAR and the DNN on as many cores as the trees' --nthread
        pred, res = run(fit_default, every)
        recal_text = describe_recalibrate(every)
        settings, linear = stage, stage.linear
    elif args.model == "blend" and lin_every == every and args.trees_predictions is None:
        pred, res = run(fit_both, every)
        recal_text = describe_recalibrate(every)
    else:
        trees = lin = None
        if args.model in ("trees", "blend"):
            if args.trees_predictions is not None:
                trees = pd.read_parquet(args.trees_predictions)
                want = set(period_origins(data, validation=args.validation, max_days=args.max_days,
                                          sample=args.days))
                if set(pd.DatetimeIndex(trees["origin"])) != want:
                    raise SystemExit(f"{args.trees_predictions} does not hold exactly this period's origins")
            else:
                trees, _ = run(fit_trees, every)
            parts["trees"] = score(trees)
        if args.model in ("linear", "blend"):
            lin, _ = run(fit_lin, lin_every)
            parts["linear"] = score(lin)
        if args.model == "blend":
            pred = blend_frames(trees, lin, linear.weight)
            recal_text = f"trees {describe_recalibrate(every)}, linear {describe_recalibrate(lin_every)}"
        else:
            pred = trees if args.model == "trees" else lin
            recal_text = describe_recalibrate(every if args.model == "trees" else lin_every)
        res = score(pred)
    wall, cpu = time.perf_counter() - w0, _cpu() - c0
    if args.save_predictions is not None:
        pred.to_parquet(args.save_predictions)

    market = args.path.stem.upper()
    period = "validation (364 days before the test period)" if args.validation else "test (last 728 days)"
    out = {
        "dataset": args.path.name, "period": "validation" if args.validation else "test", "days": res["days"],
        "mae": round(res["mae"], 4), "rmae": round(res["rmae"], 4), "smape": round(res["smape"], 3),
        "rmse": round(res["rmse"], 4), "naive_weekly_mae": round(res["naive_weekly_mae"], 4),
        "model": args.model, "recalibrate": recal_text, "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1), "peak_rss_mb": round(_peak_mb(), 1), "jobs": args.jobs,
        "nthread": args.nthread,
        "trees_from": str(args.trees_predictions) if args.trees_predictions else None,
        "parts": {k: {m: round(v[m], 4) for m in ("mae", "rmae", "smape", "rmse")} for k, v in parts.items()},
        "settings": {**settings.to_dict(), "features": len(features), "profile": not args.no_profile},
        "linear": linear.to_dict() if args.model != "trees" else None,
        "machine": machine(),
    }
    # the table is for people; with --json the JSON object still comes last
    print(f"\n{args.path.name}: {period}, {res['days']} days, recalibration {recal_text}")
    print(f"{'model':<28}{'MAE':>8}{'rMAE':>8}{'sMAPE%':>9}{'RMSE':>9}{'MAE vs LEAR':>13}")
    pub = PUBLISHED.get(market, {})
    lear = pub.get("LEAR ensemble", (None,))[0]
    for name, (mae, rmae, smape, rmse) in pub.items():
        rel = f"{mae / lear:.3f}" if lear else ""
        print(f"{name + ' (published)':<28}{mae:>8.3f}{rmae:>8.3f}{smape:>9.2f}{rmse:>9.3f}{rel:>13}")
    print(f"{'naive weekly (this run)':<28}{res['naive_weekly_mae']:>8.3f}{1.0:>8.3f}")
    rel = f"{res['mae'] / lear:.3f}" if lear else ""
    for k, v in parts.items():
        if args.model == "blend":
            print(f"{'  part: ' + k:<28}{v['mae']:>8.3f}{v['rmae']:>8.3f}{v['smape']:>9.2f}{v['rmse']:>9.3f}")
    label = {"trees": "spotcast xgboost", "linear": "spotcast linear", "blend": "spotcast trees+linear",
             "default": "spotcast default ensemble"}[args.model]
    print(f"{label:<28}{res['mae']:>8.3f}{res['rmae']:>8.3f}{res['smape']:>9.2f}{res['rmse']:>9.3f}{rel:>13}")
    if lear and not args.validation and res["days"] == 728:
        goal = 0.98 * lear
        print(f"goal MAE <= {goal:.3f} (2% better than LEAR): {'met' if res['mae'] <= goal else 'NOT met'}")
    print(f"time: {wall:.0f} s wall, {cpu:.0f} s CPU ({wall / BUDGET_SECONDS:.2f} of the 15-minute budget; "
          f"{args.jobs} job(s), {args.nthread} thread(s) each); peak RSS {_peak_mb():.0f} MB"
          f"{' per job' if args.jobs > 1 else ''}; {machine()}; the machine is shared, so wall time is noisy")
    if args.json:
        print(json.dumps(out))
    return 0




# -- members of other families: one forecast day at a time, saved as it goes --------------------
def _save(frame: pd.DataFrame, path: Path) -> None:
    """Write atomically, so an interrupted run leaves the previous file whole for --resume."""
    tmp = path.with_name(path.name + ".tmp")
    frame.to_parquet(tmp)
    os.replace(tmp, path)


def run_days(data, days: list[int], forecast, *, save: Path | None, resume: bool, label: str,
             quiet: bool, every: int = 5) -> pd.DataFrame:
    """Forecast ``days`` strictly in order with ``forecast(day) -> {column: 24 values}``.

    With ``resume`` the days already in ``save`` are kept (their rows as saved) and only the
    others are forecast; the file is rewritten every ``every`` days and at the end."""
    done: list[pd.DataFrame] = []
    have: set[pd.Timestamp] = set()
    want = [data.days[i] for i in days]
    if resume and save is not None and save.exists():
        old = pd.read_parquet(save)
        done.append(old)  # days of another sample stay in the file for a later, larger one
        have = set(pd.DatetimeIndex(old["origin"])) & set(want)
        if not quiet:
            print(f"  resuming: {len(have)} of {len(days)} days already in {save}", file=sys.stderr, flush=True)
    todo = [i for i in sorted(days) if data.days[i] not in have]
    t0 = time.perf_counter()
    for k, i in enumerate(todo, 1):
        done.append(forecast_rows(data, i, forecast(i)))
        if save is not None and (k % every == 0 or k == len(todo)):
            _save(pd.concat(done, ignore_index=True), save)
        if not quiet and (k % 5 == 0 or k == len(todo)):
            rate = (time.perf_counter() - t0) / k
            print(f"  {label}: {k}/{len(todo)} days, {rate:.1f} s wall a day", file=sys.stderr, flush=True)
    out = pd.concat(done, ignore_index=True)
    out = out[pd.DatetimeIndex(out["origin"]).isin(want)]
    return out.sort_values(["origin", "ts"], ignore_index=True)


def lear_forecaster(data, windows: tuple[int, ...], alpha_mode: str, exo_lags: tuple[int, ...] = lear_model.EXO_LAGS):
    X, Y = lear_model.epf_arrays(data, exo_lags)

    def forecast(i: int) -> dict[str, object]:
        per = lear_model.forecast_day(X, Y, i, windows=windows, alpha_mode=alpha_mode)
        out: dict[str, object] = {f"p50_w{w}": v for w, v in per.items()}
        out["p50"] = sum(per.values()) / len(per)
        return out

    return forecast


def dnn_forecaster(data, settings, every: int):
    """Refit when ``every`` days have passed since the last fit (0: fit once), as rolling_origin."""
    X, Y = lear_model.epf_arrays(data)
    state: dict[str, object] = {"model": None, "at": None}

    def forecast(i: int) -> dict[str, object]:
        if state["model"] is None or (every > 0 and i - state["at"] >= every):
            state["model"], state["at"] = dnn_model.fit_before(X, Y, i, settings), i
        return {"p50": state["model"].predict(X[i])[0]}

    return forecast


def _member_frames(spec: str) -> tuple[str, Path, Path]:
    name, sep, paths = spec.partition("=")
    test, sep2, val = paths.partition(",")
    if not (sep and sep2 and name and test and val):
        raise SystemExit(f"--member {spec!r}: give NAME=TEST.parquet,VALIDATION.parquet")
    return name, Path(test), Path(val)


def run_ensemble(args, data, days, naive_skip: int = 7):
    """Weights from the members' validation forecasts, applied unchanged to their test forecasts,
    on the days every member forecast (and, for the test period, that this run asks for)."""
    if len(args.member) < 2:
        raise SystemExit("--model ensemble needs at least two --member NAME=TEST.parquet,VALIDATION.parquet")
    test, val = {}, {}
    for spec in args.member:
        name, t, v = _member_frames(spec)
        test[name], val[name] = pd.read_parquet(t), pd.read_parquet(v)

    v = align_members(val)
    t = align_members(test, [data.days[i] for i in days])
    if v.empty or t.empty:
        raise SystemExit("the members' forecasts share no day; run them on the same --days sample")
    names = list(test)
    weights = ensemble_model.fit_weights({n: v[n].to_numpy() for n in names}, v["target_price_eur_mwh"].to_numpy(),
                                         step=args.weight_step)
    t["p50"] = ensemble_model.combine({n: t[n].to_numpy() for n in names}, weights)
    parts = {n: score(t.assign(p50=t[n]), naive_skip) for n in names}
    parts["plain mean"] = score(t.assign(p50=t[names].mean(axis=1)), naive_skip)
    print(f"  weights chosen on {v['origin'].nunique()} validation days: {weights}", file=sys.stderr)
    return t, weights, parts


def _row(name: str, r: dict) -> str:
    return f"{name:<28}{r['mae']:>8.3f}{r['rmae']:>8.3f}{r['smape']:>9.2f}{r['rmse']:>9.3f}"


def run_family(args) -> int:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # one core: the machine is shared, and BLAS threads only add contention
    data = read_epf_csv(args.path)
    days = period_indices(data, validation=args.validation, max_days=args.max_days, sample=args.days)
    naive_skip = sum(1 for i in days if i - days[0] < 7)  # the weekly naive drops the period's first week
    w0, c0 = time.perf_counter(), _cpu()
    if args.model == "lear":
        windows = tuple(int(w) for w in args.lear_windows.split(","))
        exo_lags = tuple(int(k) for k in args.lear_exo_lags.split(","))
        forecast = lear_forecaster(data, windows, args.alpha_mode, exo_lags)
        settings = {"windows": list(windows), "alpha_mode": args.alpha_mode, "exo_lags": list(exo_lags),
                    "recalibrate": "daily"}
    elif args.model == "dnn":
        every = parse_recalibrate(args.recalibrate)
        dnn_settings = dnn_model.DnnSettings(seeds=dnn_model.seeds_of(args.dnn_seeds),
                                             hidden=tuple(int(h) for h in args.dnn_hidden.split(",")),
                                             alpha=args.dnn_alpha, learning_rate=args.dnn_learning_rate,
                                             window_days=args.dnn_window)
        forecast = dnn_forecaster(data, dnn_settings, every)
        settings = {**dnn_settings.to_dict(), "recalibrate": describe_recalibrate(every)}
    if args.model == "ensemble":
        pred, weights, parts = run_ensemble(args, data, days, naive_skip)
        settings = {"weights": weights, "weights_from": "validation period forecasts", "step": args.weight_step}
    else:
        pred = run_days(data, days, forecast, save=args.save_predictions, resume=args.resume, label=args.model,
                        quiet=args.json)
        parts = {c[4:]: score(pred.assign(p50=pred[c]), naive_skip) for c in pred.columns if c.startswith("p50_")}
    wall, cpu = time.perf_counter() - w0, _cpu() - c0
    res = score(pred, naive_skip)
    market = args.path.stem.upper()
    sample = args.days is not None and res["days"] < (364 if args.validation else 728)
    period = ("validation (364 days before the test period)" if args.validation else "test (last 728 days)")
    print(f"\n{args.path.name}: {period}, {res['days']} days"
          f"{' (SAMPLE: evenly spaced days, not the full period)' if sample else ''}, model {args.model}")
    print(f"{'model':<28}{'MAE':>8}{'rMAE':>8}{'sMAPE%':>9}{'RMSE':>9}")
    for name, (mae, rmae, smape, rmse) in PUBLISHED.get(market, {}).items():
        print(f"{name + ' (published, all days)':<28}{mae:>8.3f}{rmae:>8.3f}{smape:>9.2f}{rmse:>9.3f}")
    print(f"{'naive weekly (these days)':<28}{res['naive_weekly_mae']:>8.3f}{1.0:>8.3f}")
    for k, v in parts.items():
        print(_row(f"  member {k}", v))
    print(_row(f"spotcast {args.model}", res))
    if args.model == "ensemble":
        print("weights (fixed on the validation forecasts): "
              + ", ".join(f"{k} {v:.2f}" for k, v in settings["weights"].items()))
    print(f"time: {wall:.0f} s wall, {cpu:.0f} s CPU for {len(pred) // 24} days (including resumed ones); "
          f"peak RSS {_peak_mb():.0f} MB; {machine()}; shared machine, timings not quiet")
    if args.json:
        out = {"dataset": args.path.name, "period": "validation" if args.validation else "test",
               "days": res["days"], "sample": sample, "model": args.model,
               **{m: round(res[m], 4) for m in ("mae", "rmae", "smape", "rmse", "naive_weekly_mae")},
               "parts": {k: {m: round(v[m], 4) for m in ("mae", "rmae", "smape", "rmse")} for k, v in parts.items()},
               "settings": settings, "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
               "peak_rss_mb": round(_peak_mb(), 1), "machine": machine()}
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
