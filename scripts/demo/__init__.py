"""The demo county (慈溪市, 2021): org units and records from which sifa reproduces every figure of
the bureau's 2021 annual report (../shared/spec/cixi-2021-figures.tsv). Each area module exposes
generate(orgs, rng) -> {module_code: [record, ...]}; scripts/demo_county.py loads them all."""
