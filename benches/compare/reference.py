#!/usr/bin/env python3
"""A small reference implementation in Python (pandas + numpy + scipy) of what fundsim times:

  allocate DIR            the factor method of SPEC §3 on a scenario folder, in floats (no exact
                          decimals): stages, reserve, pools, eligibility, adjustment, share /
                          inverse / gap transforms, floors and caps (fix-and-redistribute), and
                          largest-remainder rounding with ties by unit id; writes nothing, prints
                          a checksum and its own timings
  infer DIR               the L1 weight inference of SPEC §6 on the last stage's first pool:
                          min Σ|a_i − Σ_k v_k s_ik|, v ≥ 0, with scipy.optimize.linprog
                          (method="highs"); a_i = actual amounts over adjustment coefficients,
                          normalised per allocating unit, units at a floor or cap left out
  make-actual DIR ALLOC   writes DIR/actual.csv from fundsim's allocation.csv (stage 2, first
                          pool), with every 997th unit paid 20% more (planted misallocations)
  check DIR ALLOC         compares this allocation with fundsim's allocation.csv

Used by run.sh; see benches/README.md. Only for timing and cross-checking: fundsim's amounts
are exact decimals, these are floats.
"""
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd


def load(folder):
    folder = Path(folder)
    cfg = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
    data = cfg.get("data", {})
    units = pd.read_csv(folder / data.get("units", "units.csv"), dtype=str, keep_default_na=False)
    factors = pd.read_csv(folder / data.get("factors", "factors.csv"), dtype={"unit_id": str})
    factors = factors.set_index("unit_id")
    actual = None
    if (folder / "actual.csv").exists():
        actual = pd.read_csv(folder / "actual.csv", dtype={"unit_id": str, "pool": str})
    return cfg, units, factors, actual


def num(x):
    return float(str(x).replace(",", ""))


def largest_remainder(quota, group, key, total_by_group, unit):
    """Round quotas down to multiples of `unit`, hand the leftover units of each group to the
    largest remainders (ties by key)."""
    units_ = quota / unit
    whole = np.floor(units_ + 1e-9)
    rem = np.round(units_ - whole, 9)
    df = pd.DataFrame({"g": group, "rem": -rem, "key": key, "whole": whole})
    left = np.round(total_by_group / unit - df.groupby("g")["whole"].sum()).astype(int)
    df = df.sort_values(["g", "rem", "key"])
    df["pos"] = df.groupby("g").cumcount()
    df["extra"] = (df["pos"] < df["g"].map(left)).astype(float)
    df = df.sort_index()
    return (df["whole"] + df["extra"]).to_numpy() * unit


def clamp(a, lo, hi, pool, group):
    """y = min(hi, max(lo, λ_g a)) with Σ_g y = pool_g, by fixing violators and redistributing."""
    n = len(a)
    fixed_lo = np.zeros(n, bool)
    fixed_hi = np.zeros(n, bool)
    y = a * pool
    g = pd.Series(group)
    for _ in range(n + 1):
        free = ~(fixed_lo | fixed_hi)
        fixed_amount = np.where(fixed_lo, lo, 0.0) + np.where(fixed_hi, hi, 0.0)
        left = pool - g.map(pd.Series(fixed_amount).groupby(g).sum()).to_numpy()
        free_a = g.map(pd.Series(np.where(free, a, 0.0)).groupby(g).sum()).to_numpy()
        lam = np.divide(left, free_a, out=np.zeros(n), where=free_a > 0)
        y = np.where(free, lam * a, fixed_amount)
        new_lo = free & (y < lo)
        new_hi = free & (y > hi)
        if not (new_lo.any() or new_hi.any()):
            break
        fixed_lo |= new_lo
        fixed_hi |= new_hi
    return y, fixed_lo, fixed_hi


def allocate(cfg, units, factors):
    """Returns per stage a DataFrame: unit_id, allocator, pool, share rows, amount, and the
    last stage's first-pool details used by `infer`."""
    rounding = num(cfg["scenario"].get("rounding", "1"))
    parent = dict(zip(units["id"], units["parent_id"]))
    level = dict(zip(units["id"], units["level"]))
    root = units.loc[units["parent_id"] == "", "id"].iloc[0]
    holding = {root: num(cfg["stage"][0]["total"])}
    stages = []
    for st in cfg["stage"]:
        lvl = st["level"]
        reserve = num(st.get("reserve", "0"))
        # recipients: units at this level under an allocating unit
        rec, owner = [], []
        for u in units.loc[units["level"] == lvl, "id"]:
            p = parent.get(u, "")
            while p and p not in holding:
                p = parent.get(p, "")
            if p in holding:
                rec.append(u)
                owner.append(p)
        r = pd.DataFrame({"unit_id": rec, "alloc": owner}).sort_values(["alloc", "unit_id"]).reset_index(drop=True)
        held = r["alloc"].map(holding).to_numpy()
        dist = np.floor(held * (1 - reserve) / rounding + 1e-9) * rounding
        # pool amounts: D σ_q rounded together per allocator
        allocs = sorted(set(owner))
        shares = np.array([num(p["share"]) for p in st["pool"]])
        d_alloc = np.array([np.floor(holding[a] * (1 - reserve) / rounding + 1e-9) * rounding for a in allocs])
        pool_amounts = np.zeros((len(allocs), len(shares)))
        for q in range(len(shares)):
            pool_amounts[:, q] = d_alloc * shares[q] / shares.sum()
        flat = pool_amounts.ravel()
        grp = np.repeat(np.arange(len(allocs)), len(shares))
        key = np.tile([f"{q:08d}" for q in range(len(shares))], len(allocs))
        pool_amounts = largest_remainder(flat, grp, key, pd.Series(d_alloc), rounding).reshape(pool_amounts.shape)
        pool_of = {a: pool_amounts[i] for i, a in enumerate(allocs)}
        x = factors.reindex(r["unit_id"])
        total = np.zeros(len(r))
        details = None
        for q, p in enumerate(st["pool"]):
            elig = np.ones(len(r), bool) if "eligible" not in p else (x[p["eligible"]].to_numpy() != 0)
            sub = r[elig].reset_index(drop=True)
            xs = x[elig]
            g = sub["alloc"].to_numpy()
            amount = sub["alloc"].map(lambda a: pool_of[a][q]).to_numpy()
            b = np.zeros(len(sub))
            s_cols = {}
            for f in p["factor"]:
                v = xs[f["column"]].to_numpy(float)
                tf = f.get("transform", "share")
                t = v if tf == "share" else (1.0 / v if tf == "inverse" else np.maximum(0.0, num(f["reference"]) - v))
                tot = pd.Series(t).groupby(g).transform("sum").to_numpy()
                s = t / tot
                s_cols[f["column"]] = s
                b += num(f["weight"]) * s
            c = xs[p["adjust"]].to_numpy(float) if "adjust" in p else np.ones(len(sub))
            bc = b * c
            a = bc / pd.Series(bc).groupby(g).transform("sum").to_numpy()
            lo = np.zeros(len(sub))
            hi = np.full(len(sub), np.inf)
            for key_, arr, fill in (("floor", lo, 0.0), ("cap", hi, np.inf)):
                if key_ in p:
                    val = p[key_]
                    try:
                        arr[:] = num(val)
                    except ValueError:
                        arr[:] = xs[val].to_numpy(float)
            if "cap_share" in p:
                hi = np.minimum(hi, num(p["cap_share"]) * amount)
            if "floor" in p or "cap" in p or "cap_share" in p:
                y, floored, capped = clamp(a, lo, hi, amount, g)
            else:
                y, floored, capped = a * amount, np.zeros(len(sub), bool), np.zeros(len(sub), bool)
            by_alloc = pd.Series(amount).groupby(g).first()
            y = largest_remainder(y, g, sub["unit_id"].to_numpy(), by_alloc, rounding)
            idx = np.flatnonzero(elig)
            total[idx] += y
            if q == 0:
                details = dict(unit_id=sub["unit_id"].to_numpy(), alloc=g, shares=s_cols, adjust=c,
                               floored=floored | np.isclose(y, lo, atol=rounding) & (lo > 0),
                               capped=capped | np.isclose(y, hi, atol=rounding),
                               weights={f["column"]: num(f["weight"]) for f in p["factor"]})
        r["amount"] = total
        stages.append((r, details))
        holding = dict(zip(r["unit_id"], r["amount"]))
    return stages


def infer(stages, actual):
    from scipy.optimize import linprog
    from scipy import sparse
    r, d = stages[-1]
    act = actual.copy()
    if "stage" in act.columns:
        act = act[act["stage"].astype(str) == str(len(stages))]
    amt = pd.Series(d["unit_id"]).map(dict(zip(act["unit_id"], act["amount"].astype(float)))).to_numpy()
    adj = amt / d["adjust"]
    g = d["alloc"]
    a = adj / pd.Series(adj).groupby(g).transform("sum").to_numpy()
    keep = ~(d["floored"] | d["capped"])
    names = list(d["shares"].keys())
    S = np.column_stack([d["shares"][k] for k in names])[keep]
    a = a[keep]
    n, k = S.shape
    # variables: v (k), p (n), m (n); S v + p − m = a; minimise Σ p + Σ m
    A = sparse.hstack([sparse.csr_matrix(S), sparse.identity(n), -sparse.identity(n)], format="csr")
    cost = np.concatenate([np.zeros(k), np.ones(2 * n)])
    res = linprog(cost, A_eq=A, b_eq=a, bounds=(0, None), method="highs")
    v = res.x[:k]
    return dict(zip(names, v / v.sum())), v.sum(), res


def main():
    cmd = sys.argv[1]
    if cmd == "make-actual":
        folder, alloc_csv = Path(sys.argv[2]), sys.argv[3]
        al = pd.read_csv(alloc_csv, dtype={"unit_id": str, "pool": str})
        cfg = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
        last = len(cfg["stage"])
        pool = cfg["stage"][-1]["pool"][0]["id"]
        rows = al[(al["stage"] == last) & (al["pool"] == pool)].reset_index(drop=True)
        amount = rows["amount"].astype(float)
        planted = rows.index % 997 == 0
        amount[planted] = np.round(amount[planted] * 1.2)
        out = pd.DataFrame({"unit_id": rows["unit_id"], "stage": last, "pool": pool, "amount": amount.astype(np.int64)})
        out.to_csv(folder / "actual.csv", index=False)
        print(f"wrote {folder / 'actual.csv'}: {len(out)} units, {int(planted.sum())} planted")
        return
    t0 = time.perf_counter()
    cfg, units, factors, actual = load(sys.argv[2])
    t1 = time.perf_counter()
    stages = allocate(cfg, units, factors)
    t2 = time.perf_counter()
    if cmd == "allocate":
        total = sum(float(r["amount"].sum()) for r, _ in stages)
        print(f"python allocate: load {1e3 * (t1 - t0):.1f} ms, allocation {1e3 * (t2 - t1):.1f} ms, checksum {total:.0f}")
    elif cmd == "infer":
        w, scale, res = infer(stages, actual)
        t3 = time.perf_counter()
        ws = ", ".join(f"{k} {v:.4f}" for k, v in w.items())
        print(f"python infer (scipy {res.message.split('(')[0].strip()}): load {1e3 * (t1 - t0):.1f} ms, "
              f"shares {1e3 * (t2 - t1):.1f} ms, L1 LP {1e3 * (t3 - t2):.1f} ms; formula share {scale:.4f}; {ws}")
    elif cmd == "check":
        al = pd.read_csv(sys.argv[3], dtype={"unit_id": str, "pool": str})
        worst = 0.0
        for i, (r, _) in enumerate(stages):
            ref = al[(al["stage"] == i + 1) & (al["pool"] == "total")].set_index("unit_id")["amount"].astype(float)
            diff = (r.set_index("unit_id")["amount"] - ref.reindex(r["unit_id"]).to_numpy()).abs()
            worst = max(worst, float(diff.max()))
            print(f"stage {i + 1}: {len(r)} recipients, largest |python − fundsim| = {diff.max():.0f}, "
                  f"units that differ: {int((diff > 0.5).sum())}")
        print(f"largest difference {worst:.0f} (floats vs exact decimals; ties and the clamp's last digits)")
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
