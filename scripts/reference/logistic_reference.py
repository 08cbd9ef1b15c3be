#!/usr/bin/env python3
"""Reference values for the multinomial logistic regression of `grape classify baseline`.

Writes Tests/EvaluationTests/Fixtures/logistic.json. Run from the repository root:

    python3 scripts/reference/logistic_reference.py

The values are checked by Tests/EvaluationTests/LogisticRegressionTests.swift; they are never
computed during a test run. The fixture records the seed, the library versions and a format version.

The data: 60 rows of 4 features in 4 classes (labels 0, 2, 5, 7: the classes need not be
consecutive), each class a Gaussian blob whose centres overlap, so the fit is neither separable nor
trivial; values rounded to 6 decimals so that the JSON holds the exact input. For C = 1 and C = 0.05,
scikit-learn's LogisticRegression(C=C, solver="lbfgs", tol=1e-12, max_iter=10000) (multinomial for
more than two classes) gives the coefficients, the intercepts (centred: they are unique only up to a
common shift, which changes no probability), the class probabilities of every row and the objective
(1/n) sum CE + ||W||^2 / (2 C n).
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

SEED = 0


def main():
    rng = np.random.RandomState(SEED)
    labels = np.array([0, 2, 5, 7])
    centres = rng.normal(0, 1.0, size=(4, 4))
    y = np.repeat(labels, 15)
    x = centres[np.repeat(np.arange(4), 15)] + rng.normal(0, 1.2, size=(60, 4))
    x = np.round(x, 6)
    cases = []
    for c in [1.0, 0.05]:
        m = LogisticRegression(C=c, solver="lbfgs", tol=1e-12, max_iter=10000).fit(x, y)
        p = m.predict_proba(x)
        n = len(y)
        ce = -np.log(p[np.arange(n), np.searchsorted(m.classes_, y)]).mean()
        loss = ce + (m.coef_ ** 2).sum() / (2 * c * n)
        cases.append({
            "c": c,
            "coefficients": m.coef_.ravel().tolist(),
            "intercepts": (m.intercept_ - m.intercept_.mean()).tolist(),
            "probabilities": p.ravel().tolist(),
            "loss": float(loss),
            "classes": m.classes_.tolist(),
        })
    out = {
        "format_version": 1,
        "generator": "scripts/reference/logistic_reference.py",
        "seed": SEED,
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "sklearn": sklearn.__version__},
        "rows": 60,
        "features": 4,
        "x": x.ravel().tolist(),
        "labels": y.tolist(),
        "cases": cases,
    }
    with open("Tests/EvaluationTests/Fixtures/logistic.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote Tests/EvaluationTests/Fixtures/logistic.json")


if __name__ == "__main__":
    main()
