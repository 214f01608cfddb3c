"""InterFaceGAN: boundary on a fixed labelled set vs an independent top/bottom + SVC(linear) fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from large_toolkit.errors import UserInputError


@pytest.fixture(scope="module")
def labelled() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.RandomState(0)
    codes = rng.randn(3000, 32)
    normal = rng.randn(32)
    normal /= np.linalg.norm(normal)
    scores = (codes @ normal + 0.3 * rng.randn(3000)).reshape(-1, 1)
    return codes, scores, normal


def independent(codes: np.ndarray, scores: np.ndarray, chosen: int) -> np.ndarray:
    from sklearn.svm import SVC

    order = np.argsort(scores[:, 0])
    pos, neg = order[-chosen:], order[:chosen]
    clf = SVC(kernel="linear").fit(np.concatenate([codes[pos], codes[neg]]), np.r_[np.ones(chosen), np.zeros(chosen)])
    w = clf.coef_.reshape(-1)
    return w / np.linalg.norm(w)


def test_boundary_matches_independent_svc(labelled) -> None:
    from large_interfacegan.finder import train_boundary

    codes, scores, normal = labelled
    res = train_boundary(codes, scores, ratio=0.1, split_ratio=1.0, seed=0)
    ref = independent(codes, scores, 300)
    assert res["normal"] @ ref >= 0.9999
    np.testing.assert_allclose(res["normal"], ref, atol=5e-4)
    assert np.linalg.norm(res["normal"]) == pytest.approx(1.0)
    assert res["normal"] @ normal > 0.9  # points toward high scores
    assert res["num_train"] == 600 and res["num_val"] == 0


def test_split_matches_reference_rng_and_is_deterministic(labelled) -> None:
    from large_interfacegan.finder import select_and_split, train_boundary

    codes, scores, _ = labelled
    split = select_and_split(scores, 0.1, 0.7, seed=3)
    # the reference: np.random.seed(seed); shuffle(positives); shuffle(negatives) on the global RNG
    order = np.argsort(scores, axis=0)[::-1, 0]
    pos, neg = order[:300].copy(), order[-300:].copy()
    np.random.seed(3)
    np.random.shuffle(pos)
    np.random.shuffle(neg)
    assert np.array_equal(split["train_pos"], pos[:210]) and np.array_equal(split["val_neg"], neg[210:])
    a = train_boundary(codes, scores, 0.1, 0.7, seed=3)
    b = train_boundary(codes, scores, 0.1, 0.7, seed=3)
    assert np.array_equal(a["normal"], b["normal"])
    assert a["val_accuracy"] > 0.95


def test_too_few_positives_is_one_clear_line() -> None:
    from large_interfacegan.finder import select_and_split

    labels = np.zeros(1000)
    labels[:3] = 1
    with pytest.raises(UserInputError, match="too few positives") as info:
        select_and_split(labels, 0.02, 0.7, 0, source="labels.csv")
    assert "\n" not in info.value.one_line()


def test_project_boundary_invariants() -> None:
    from large_interfacegan.finder import project_boundary

    rng = np.random.RandomState(1)
    n, c1, c2, c3 = (v / np.linalg.norm(v) for v in rng.randn(4, 32))
    one = project_boundary(n, c1)
    assert abs(one @ c1) < 1e-12 and np.linalg.norm(one) == pytest.approx(1.0)
    np.testing.assert_allclose(one, (n - (n @ c1) * c1) / np.linalg.norm(n - (n @ c1) * c1))
    two = project_boundary(n, c1, c2)
    assert abs(two @ c1) < 1e-7 and abs(two @ c2) < 1e-7
    three = project_boundary(n, c1, c2, c3)
    assert max(abs(three @ c) for c in (c1, c2, c3)) < 1e-10


def test_project_shipped_boundaries(shared_fixtures) -> None:
    from large_interfacegan.finder import project_boundary

    fmt = shared_fixtures / "formats"
    age, pose, smile = (
        np.load(fmt / f"interfacegan_stylegan_celebahq_{a}_w_boundary.npy", allow_pickle=False)
        for a in ("age", "pose", "smile")
    )
    out = project_boundary(smile, age, pose)
    assert abs(out @ age[0]) < 1e-7 and abs(out @ pose[0]) < 1e-7
    assert out @ smile[0] > 0.9


def test_finder_from_csv_with_seeds(tmp_path, toy32) -> None:
    from large_interfacegan.finder import InterFaceGANFinder, w_from_seeds

    seeds = list(range(400))
    w = w_from_seeds(toy32, seeds)
    rng = np.random.RandomState(0)
    axis = rng.randn(32)
    score = (w - w.mean(0)) @ axis
    path = tmp_path / "labels.csv"
    path.write_text(
        "seed,smile,file\n" + "".join(f"{s},{v:.6f},img{s}.png\n" for s, v in zip(seeds, score, strict=True))
    )
    dirs = InterFaceGANFinder().find(toy32, {"scores": str(path), "ratio": 0.25, "seed": 0})
    assert len(dirs) == 1 and dirs[0].name == "smile"
    assert dirs.scores[0] > 0.9
    assert float(dirs[0].vector.norm()) == pytest.approx(1.0, abs=1e-6)
    cos = float(dirs[0].vector.double() @ torch.from_numpy(axis / np.linalg.norm(axis)))
    assert cos > 0.5
    again = InterFaceGANFinder().find(toy32, {"scores": str(path), "ratio": 0.25, "seed": 0})
    assert torch.equal(dirs[0].vector, again[0].vector)
    cond = InterFaceGANFinder().find(toy32, {"scores": str(path), "ratio": 0.25, "conditions": "sefa:0"})
    from large_toolkit.directions import resolve_direction

    assert abs(float(cond[0].vector @ resolve_direction("sefa:0", toy32, use_cache=False).vector)) < 1e-6


@pytest.mark.slow
def test_finder_with_scorer_callable(toy32) -> None:
    from large_interfacegan.finder import InterFaceGANFinder

    def brightness(images: torch.Tensor) -> torch.Tensor:
        return images.mean(dim=(1, 2, 3))

    dirs = InterFaceGANFinder().find(
        toy32, {"scorer": brightness, "num_samples": 500, "ratio": 0.2, "solver": "linearsvc"}
    )
    assert dirs[0].name == "score" and dirs.scores[0] > 0.8


def test_finder_needs_labels(toy32) -> None:
    from large_interfacegan.finder import InterFaceGANFinder

    with pytest.raises(UserInputError, match="needs labels"):
        InterFaceGANFinder().find(toy32)
