//! Benefit-of-the-doubt scores of the Gansu performance table (`dea.csv` from `fundsim score`):
//! every unit's best composite is at least its published one, and its published rank lies
//! within its best and worst reachable ranks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use assert_cmd::cargo::cargo_bin_cmd;

fn lo_hi(s: &str) -> (usize, usize) {
    match s.split_once('-') {
        Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
        None => (s.parse().unwrap(), s.parse().unwrap()),
    }
}

#[test]
fn best_scores_and_rank_ranges_bracket_the_published_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let o = cargo_bin_cmd!("fundsim")
        .args(["score", "--draws", "0", "--out"])
        .arg(tmp.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut r = csv::Reader::from_path(tmp.path().join("dea.csv")).unwrap();
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let (published, best): (f64, f64) = (rec[1].parse().unwrap(), rec[3].parse().unwrap());
        assert!(best >= published - 1e-6, "{rec:?}");
        let rank: usize = rec[2].parse().unwrap();
        let (best_lo, _) = lo_hi(&rec[4]);
        let (_, worst_hi) = lo_hi(&rec[5]);
        assert!(best_lo <= rank && rank <= worst_hi, "{rec:?}");
        n += 1;
    }
    assert_eq!(n, 75, "the 75 poverty counties are scored");
}
