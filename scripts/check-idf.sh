#!/usr/bin/env bash
# Compiles the project's esp32 C files (manifest.json, platforms.esp32: ffi.sources) the way the
# Moddable SDK's esp32 build does: the include list, defines and flags of
# $MODDABLE/tools/mcconfig/make.esp32.mk, evaluated by make itself, against the ESP-IDF at $IDF_PATH.
#
#   MODDABLE=~/moddable IDF_PATH=~/esp32/esp-idf-v6.0 scripts/check-idf.sh
#
# esp32c3: a full compile (-c) with Debian's riscv64-unknown-elf-gcc and picolibc
#   (-march=rv32imc_zicsr_zifencei -mabi=ilp32 --specs=picolibc.specs after the SDK's flags).
# esp32:   there is no Xtensa compiler on Debian; the same RISC-V compiler checks the file with
#   -fsyntax-only against esp32's include list and sdkconfig.h (an ILP32 compiler, so type sizes
#   and ESP-IDF's static asserts hold; the Xtensa-only headers are not reached by these files).
# Both with -Wall -Werror -Werror=implicit-function-declaration (the SDK itself passes
# -Wno-implicit-function-declaration; a missing prototype is an error here). Then each file again
# with ESP-IDF's own component folders for what the SDK's list cannot reach (esp_efuse.h forced
# in), so a declaration written by hand in the C must match ESP-IDF's.
#
# sdkconfig.h: the real build gets it from idf.py (kconfgen); here scripts/idf-sdkconfig.mjs
# writes the options the compiled files mention, from ESP-IDF's Kconfig defaults and the merged
# sdkconfig.defaults (the SDK's xsProj-<target>/sdkconfig.defaults, then ./sdkconfig/), as a
# debug build (mcconfig -d) merges them. docs/device.md, section 8.
#
# Optional: TARGETS="esp32c3 esp32" (default), CHECK_IDF_OUT=<dir> (default: a temporary dir),
# RISCV_GCC=riscv64-unknown-elf-gcc. Exit 0 when every file compiles with no diagnostic; 1 when
# one does not; 2 when a prerequisite is missing (one line each).
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
RISCV_GCC=${RISCV_GCC:-riscv64-unknown-elf-gcc}
TARGETS=${TARGETS:-esp32c3 esp32}

missing=0
need() { echo "check-idf: $*" >&2; missing=1; }
if [ -z "${MODDABLE:-}" ]; then need "MODDABLE is not set: export MODDABLE=<Moddable SDK 8.2.3 checkout>"
elif [ ! -f "$MODDABLE/tools/mcconfig/make.esp32.mk" ]; then need "MODDABLE=$MODDABLE has no tools/mcconfig/make.esp32.mk: point it at a Moddable SDK 8.2.3 checkout"
fi
if [ -z "${IDF_PATH:-}" ]; then need "IDF_PATH is not set: export IDF_PATH=<ESP-IDF v6.0 tree>"
elif [ ! -f "$IDF_PATH/components/app_update/include/esp_ota_ops.h" ]; then need "IDF_PATH=$IDF_PATH has no components/app_update/include/esp_ota_ops.h: point it at an ESP-IDF v6.0 tree"
fi
command -v make >/dev/null || need "make not found: apt-get install make"
command -v node >/dev/null || need "node not found: install Node.js (the repository's own prerequisite)"
if ! command -v "$RISCV_GCC" >/dev/null; then need "$RISCV_GCC not found: apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf"
elif ! echo 'int x;' | "$RISCV_GCC" -march=rv32imc_zicsr_zifencei -mabi=ilp32 --specs=picolibc.specs -x c -c - -o /dev/null 2>/dev/null; then need "$RISCV_GCC cannot compile with --specs=picolibc.specs: apt-get install picolibc-riscv64-unknown-elf"
fi
[ "$missing" = 0 ] || exit 2

if [ -f "$IDF_PATH/version.txt" ]; then idf_version=$(cat "$IDF_PATH/version.txt")
else idf_version=$(sed -n 's/^set(IDF_VERSION_MAJOR \([0-9]*\)).*/\1/p' "$IDF_PATH/tools/cmake/version.cmake" 2>/dev/null).$(sed -n 's/^set(IDF_VERSION_MINOR \([0-9]*\)).*/\1/p' "$IDF_PATH/tools/cmake/version.cmake" 2>/dev/null)
	idf_version=v${idf_version}
fi

# The esp32 C files: manifest.json, platforms.esp32.ffi.sources (paths relative to the repository).
mapfile -t sources < <(cd "$here" && node -e '
	const m = JSON.parse(require("fs").readFileSync("manifest.json", "utf8"));
	for (const s of m.platforms?.esp32?.ffi?.sources ?? []) console.log(s.replace(/^\.\//, ""));
')
if [ "${#sources[@]}" = 0 ]; then echo "check-idf: manifest.json lists no platforms.esp32.ffi.sources" >&2; exit 2; fi

out=${CHECK_IDF_OUT:-$(mktemp -d)}
mkdir -p "$out"
# mcconfig's DIRECTORIES: -I for the folder of each C source (tools/ffi.js addSources).
dirs=$(for s in "${sources[@]}"; do dirname "$here/$s"; done | sort -u | sed 's/^/-I/' | tr '\n' ' ')
cat > "$out/flags.mk" <<'EOF'
include $(MODDABLE)/tools/mcconfig/make.esp32.mk
print-flags:
	@echo $(C_DEFINES) $(C_INCLUDES) $(C_FLAGS)
EOF

status=0
echo "check-idf: ESP-IDF $idf_version at $IDF_PATH, Moddable SDK at $MODDABLE, $($RISCV_GCC -dumpversion | sed 's/^/riscv64-unknown-elf-gcc /')"
for target in $TARGETS; do
	tdir=$out/$target
	mkdir -p "$tdir/config"
	# mc.defines.h: mcconfig writes it into TMP_DIR (on the SDK's include list) from the manifest's
	# `defines`, top level then the esp32 platform's, by the rules of its DefinesFile: MODDEF_ + the
	# upper-cased path, "#text" as a C string, numbers and booleans in parentheses.
	node -e '
		const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const out = ["/* check-idf.sh: as mcconfig writes it */"];
		const put = (prefix, defs) => { for (const [k, v] of Object.entries(defs ?? {})) {
			const n = prefix + k.toUpperCase();
			if (typeof v === "number" || typeof v === "boolean") out.push(`#define ${n} (${v})`);
			else if (typeof v === "string") out.push(v.startsWith("#") ? `#define ${n} "${v.slice(1)}"` : `#define ${n} ${v}`);
			else if (v && typeof v === "object" && !Array.isArray(v)) put(n + "_", v);
		} };
		put("MODDEF_", m.defines); put("MODDEF_", m.platforms?.esp32?.defines);
		require("fs").writeFileSync(process.argv[2], out.join("\n") + "\n");
	' "$here/manifest.json" "$tdir/mc.defines.h"
	# The SDK's flags for this target, as its makefile computes them (IDF_VERSION given: the tree may
	# have no .git; SDKCONFIG_H_DIR: the generated sdkconfig.h below, instead of build/config of idf.py).
	# DEBUG, INSTRUMENT, COMMODETTOBITMAPFORMAT (rgb565le) and POCOROTATION: what the makefile that
	# `mcconfig -d -p esp32/<target>` writes for this manifest sets.
	if ! flags=$(make -s -f "$out/flags.mk" MODDABLE="$MODDABLE" IDF_PATH="$IDF_PATH" IDF_VERSION="$idf_version" \
		ESP32_SUBCLASS="$target" DEBUG=1 INSTRUMENT=1 COMMODETTOBITMAPFORMAT=7 POCOROTATION=0 BUILD_DIR="$MODDABLE/build" XS_DIR="$MODDABLE/xs" \
		TMP_DIR="$tdir" LIB_DIR="$tdir/lib" SDKCONFIG_H_DIR="$tdir/config" DIRECTORIES="$dirs" \
		print-flags 2>"$tdir/make.err"); then
		echo "check-idf: $target: make could not evaluate $MODDABLE/tools/mcconfig/make.esp32.mk:" >&2
		cat "$tdir/make.err" >&2
		status=1; continue
	fi
	# Every flag of the SDK except its dependency-file options (-MMD -MP) and, for an Xtensa target,
	# the two Xtensa code-generation options (-mlongcalls -mtext-section-literals) a RISC-V GCC rejects.
	sdk=()
	xtensa_only=()
	for f in $flags; do
		case "$f" in
			-MMD|-MP) ;;
			-mlongcalls|-mtext-section-literals) xtensa_only+=("$f") ;;
			*) sdk+=("$f") ;;
		esac
	done
	arch=(-march=rv32imc_zicsr_zifencei -mabi=ilp32 --specs=picolibc.specs)
	if [ "${#xtensa_only[@]}" = 0 ]; then
		mode=(-c); how="compile"
	else
		# Xtensa target without an Xtensa compiler: syntax and types only.
		mode=(-fsyntax-only); how="syntax check (RISC-V GCC, without ${xtensa_only[*]})"
	fi
	strict=(-Wall -Werror -Werror=implicit-function-declaration)
	defaults=(--defaults "$MODDABLE/build/devices/esp32/xsProj-$target/sdkconfig.defaults")
	[ -f "$here/sdkconfig/sdkconfig.defaults" ] && defaults+=(--defaults "$here/sdkconfig/sdkconfig.defaults")
	for s in "${sources[@]}"; do
		name=$(basename "$s" .c)
		# sdkconfig.h: the options the file and the headers it reaches mention; the header set can
		# depend on the options, so repeat until it no longer changes.
		scan=("$here/$s")
		# ESP-IDF's own folders for the headers the SDK's list cannot reach (second compile below).
		own=(-I"$IDF_PATH/components/efuse/include" -I"$IDF_PATH/components/efuse/$target/include" -include esp_efuse.h)
		: > "$tdir/$name.deps.prev"
		for round in 1 2 3 4; do
			args=(); for f in "${scan[@]}"; do args+=(--scan "$f"); done
			node "$here/scripts/idf-sdkconfig.mjs" --idf "$IDF_PATH" --target "$target" --out "$tdir/config/sdkconfig.h" \
				"${defaults[@]}" "${args[@]}" 2>"$tdir/$name.sdkconfig.log" || { cat "$tdir/$name.sdkconfig.log" >&2; exit 2; }
			{ "$RISCV_GCC" "${sdk[@]}" "${arch[@]}" -M "$here/$s" 2>/dev/null
			  "$RISCV_GCC" "${sdk[@]}" "${arch[@]}" "${own[@]}" -M "$here/$s" 2>/dev/null; } | tr ' \\' '\n\n' | grep '\.h$' | sort -u > "$tdir/$name.deps" || true
			cmp -s "$tdir/$name.deps" "$tdir/$name.deps.prev" && break
			cp "$tdir/$name.deps" "$tdir/$name.deps.prev"
			mapfile -t scan < <(echo "$here/$s"; cat "$tdir/$name.deps")
		done
		cp "$tdir/config/sdkconfig.h" "$tdir/$name.sdkconfig.h"
		if "$RISCV_GCC" "${sdk[@]}" "${arch[@]}" "${strict[@]}" "${mode[@]}" "$here/$s" -o "$tdir/$name.o" 2>"$tdir/$name.log" && [ ! -s "$tdir/$name.log" ]; then
			echo "check-idf: $target: $s: $how with the SDK's include list and flags: ok ($(wc -l < "$tdir/$name.deps") headers)"
		else
			echo "check-idf: $target: $s: $how with the SDK's include list and flags: FAILED" >&2
			cat "$tdir/$name.log" >&2
			status=1
			continue
		fi
		# The declarations written by hand (those the SDK's list cannot reach) against ESP-IDF's own.
		if "$RISCV_GCC" "${sdk[@]}" "${arch[@]}" "${strict[@]}" -fsyntax-only "${own[@]}" "$here/$s" 2>"$tdir/$name.own.log" && [ ! -s "$tdir/$name.own.log" ]; then
			echo "check-idf: $target: $s: declarations against ESP-IDF's headers (esp_efuse.h): ok"
		else
			echo "check-idf: $target: $s: declarations against ESP-IDF's headers (esp_efuse.h): FAILED" >&2
			cat "$tdir/$name.own.log" >&2
			status=1
		fi
	done
done
[ -n "${CHECK_IDF_OUT:-}" ] || rm -rf "$out"
exit $status
