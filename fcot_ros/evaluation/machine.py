"""One line naming the CPU a figure was measured on: model, vector extensions, core count.

Speed figures differ by ~2x between CPUs with and without AVX-512, so every report names them:

    >>> cpu_description()
    'AMD EPYC, AVX2 + AVX-512 (avx512f, avx512_vnni, avx512_bf16), 2 CPUs'
"""
import os
import platform

_AVX512_SHOWN = ("avx512f", "avx512_vnni", "avx512_bf16")


def _cpuinfo(text: str = None) -> str:
    """``text``, or /proc/cpuinfo ('' where there is none)."""
    if text is not None:
        return text
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def cpu_flags(cpuinfo: str = None) -> set:
    """The flags of the first processor in /proc/cpuinfo (empty set where there is none)."""
    for line in _cpuinfo(cpuinfo).splitlines():
        if line.startswith("flags") and ":" in line:
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_model(cpuinfo: str = None) -> str:
    """'model name' of /proc/cpuinfo, else platform.processor() or the architecture."""
    for line in _cpuinfo(cpuinfo).splitlines():
        if line.startswith("model name") and ":" in line:
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def cpu_description(cpuinfo: str = None, cpus: int = None) -> str:
    """'<model>, <vector extensions>, <n> CPUs' (see the module doc)."""
    flags = cpu_flags(cpuinfo)
    if "avx512f" in flags:
        vector = "AVX2 + AVX-512 (" + ", ".join(f for f in _AVX512_SHOWN if f in flags) + ")"
    elif "avx2" in flags:
        vector = "AVX2, no AVX-512"
    elif flags:
        vector = "no AVX2"
    else:
        vector = "vector extensions unknown"
    return f"{cpu_model(cpuinfo)}, {vector}, {cpus or os.cpu_count()} CPUs"
