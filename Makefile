# The commands in README.md: `make app`, `make demo` and `make test`. Every target runs
# setup first, which is idempotent and fast when everything is in place.
CARGO ?= cargo
DEMO_OUT ?= demo-output
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
APP_BIN := $(TARGET_DIR)/debug/virnucpro-desktop

# fuzz-% stays off .PHONY: make skips pattern rules for phony targets.
.PHONY: setup build package package-cli test-install demo workflow-demo test lint fmt ui app app-build test-e2e bench-prepare bench-merge bench-embed bench-predict bench-scale bench-startup clean ipc-types

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --release -p virnucpro-cli

# The demo models are RANDOM tiny networks (demo/models/README.md): the run is real, the
# predictions are not.
demo: build
	./target/release/virnucpro predict demo/sample_reads.fa --length 500 \
		--dnabert demo/models/dnabert_s_tiny --esm demo/models/esm2_tiny/esm2_t2_tiny_fixture.pt \
		--classifier demo/models/classifier_500_tiny.pth --devices cpu --out $(DEMO_OUT)
	@echo
	@echo "Demo results are in $(DEMO_OUT)/: prediction_results.txt, prediction_results_highestscore.csv,"
	@echo "read_summary.tsv, failures.tsv and run-manifest.json (made with RANDOM demo models)."

# The same demo through the Snakemake workflow (workflow/, docs/cluster.md), locally.
workflow-demo: build
	.venv-workflow/bin/snakemake -s workflow/Snakefile --configfile workflow/config.example.yaml \
		--profile workflow/profiles/local --cores 2
	@echo
	@echo "Workflow demo results are in workflow-results/ (made with RANDOM demo models)."

# The web UI in ui/dist: the desktop crate embeds it at compile time, so every cargo build
# of the workspace (clippy and tests too) needs it first. Setup installs the npm packages.
ui: setup
	npm run ui:build

# The desktop app as users run it (custom protocol, not the Vite dev server), debug build;
# tauri.conf.json's beforeBuildCommand builds the UI first.
# The server tarball (CLI + CPU libtorch + demo + docs), checked from an empty environment.
package-cli: setup
	bash scripts/package-cli.sh

# The release packages: the desktop .deb (with the CLI, CPU libtorch, demo and docs) and
# the server tarball, each checked (docs/packaging.md). Release builds: tens of minutes.
package: setup
	bash scripts/package.sh

# The fresh-machine install test of the .deb (root, mmdebstrap, network; ~10 minutes
# after `make package`): too heavy for every CI run (docs/packaging.md).
test-install:
	bash scripts/test-install.sh $$(ls -t target/package/*.deb | head -1) target/test-install

app-build: setup
	npx tauri build --debug --no-bundle

# Build the app and open it; the Demo preset runs the sample reads on the CPU.
app: app-build
	$(APP_BIN)

# The real-window test: the app under Xvfb, driven by tauri-driver + WebKitWebDriver.
# The tests take well under a minute; the timeout turns a hang (an app left running keeps
# the test runner's pipe open) into a failure instead of eating CI's time.
test-e2e: app-build
	VIRNUCPRO_DESKTOP_BIN=$(abspath $(APP_BIN)) timeout --kill-after=10 600 \
		xvfb-run -a -s "-screen 0 1920x1080x24" npm run e2e

lint: setup ui
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: lint
	$(CARGO) test --workspace
	npm run ui:test
	$(MAKE) test-e2e

fmt:
	$(CARGO) fmt --all

# The UI's IPC types, ui/src/api/generated/, written from the Rust types (ts-rs); the test
# src-tauri/tests/ipc_types.rs fails when they drift. The desktop crate embeds ui/dist, so
# one is built first if missing (vite only: stale types must not stop their own update).
ipc-types: setup
	test -d ui/dist || npx vite build --config ui/vite.config.ts
	VIRNUCPRO_WRITE_IPC_TYPES=1 $(CARGO) test -p virnucpro-desktop --test ipc_types

# Benchmarks: see docs/benchmarks.md for what they measure and the recorded numbers.
bench-prepare: build
	bash scripts/bench-prepare.sh

bench-predict: build
	bash scripts/bench-predict.sh

# Start-up and whole-process cost of the commands that run no model (no libtorch).
bench-startup: build
	bash scripts/bench-startup.sh

# Needs python3 for the legacy .pt inputs (standard library only).
bench-scale: setup
	bash scripts/bench-scale.sh

bench-embed: setup
	bash scripts/bench-embed.sh

bench-merge: setup
	LEGACY=1 bash scripts/bench-merge.sh

# Fuzzing needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
FUZZ_SECONDS ?= 600
fuzz-%:
	mkdir -p fuzz/corpus/$* && cd fuzz && $(CARGO) +nightly fuzz run $* corpus/$* seeds/$* -- -max_total_time=$(FUZZ_SECONDS)

clean:
	$(CARGO) clean
	rm -rf $(DEMO_OUT) workflow-results .snakemake
