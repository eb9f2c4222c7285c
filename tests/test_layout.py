"""Generated modules are laid out as black lays them out, without black formatting them:
black leaves every corpus module, the committed module and the benchmark module unchanged."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from conftest import CORPUS_MISSING, require
from corpus_options import CORPUS, REJECTED, corpus_files, options_for

from xdrgen.compiler import Options, compile_file
from xdrgen.generator import generate
from xdrgen.layout import black_format, split_call

ROOT = Path(__file__).resolve().parents[1]
FILES = [f for f in corpus_files() if f not in REJECTED]


def _unchanged_by_black(relative: str) -> str | None:
    """None if black leaves the generated module as it is, else the first differing line."""
    path = CORPUS / relative if relative in FILES else ROOT / relative
    defines, pre = options_for(relative) if relative in FILES else ({}, [])
    compiled = compile_file(path, Options(defines=defines, pre_includes=pre))
    code = generate(compiled.model, path.name, compiled.text, "m")
    formatted = black_format(code)
    if formatted == code:
        return None
    ours, theirs = code.split("\n"), formatted.split("\n")
    n = next(i for i, (a, b) in enumerate(zip(ours + [""], theirs + [""])) if a != b)
    return f"{relative}:{n + 1}: ours {ours[n:n + 3]!r}, black {theirs[n:n + 3]!r}"


def test_black_leaves_every_generated_module_unchanged() -> None:
    sources = FILES + ["protocols/lxc_monitor_protocol.x", "benchmarks/bench.x", "tests/xdr/alltypes.x"]
    with ProcessPoolExecutor(max_workers=2) as pool:
        differences = [d for d in pool.map(_unchanged_by_black, sources) if d]
    assert not differences, "\n".join(differences)
    # the project's own modules are checked above either way; the corpus is most of the test
    require(FILES, CORPUS_MISSING)


@pytest.mark.parametrize(
    "line",
    [
        '        _f0, pos = _rt.dec_uint32(buf, pos, "remote_protocol.remote_domain_get_block_io_tune_args.flags")',
        '    raise _rt.bad_type(v, "remote_domain_get_block_io_tune_args", "remote_protocol.remote_domain_get_x")',
        "        out += (_S_I.pack(_len2), _b1, _rt.PADDING[_len2 & 3], _S_QII.pack(v.offset, v.size, v.flags))",
        "REMOTE_PROC_DOMAIN_GET_BLOCK_IO_TUNE_XXXXXXXXXX: Final = remote_procedure.REMOTE_PROC_DOMAIN_GET_BLOCK_IO_TUNE",
        '            _rt.enc_int64(out, v.c, -9223372036854775808, 9223372036854775807, "bench.medium.c", "a longer path")',
        '        return b"".join((_S_I.pack(_len2), _b1, _rt.PADDING[_len2 & 3], _S_I.pack(_len4), _b3, _rt.PAD))',
        '    return b"".join((_S_I.pack(_len2), _b1, _rt.PADDING[_len2 & 3], _S_I.pack(_len4), _b3, _rt.PADDING[_len4 & 3]))',
        "        return remote_storage_pool_set_autostart_args(remote_nonnull_storage_pool(_s3, _v4), _v5), pos",
        "        return remote_domain_get_scheduler_parameters_flags_args(remote_nonnull_domain(_s3, _v4, _v5), _v6), pos",
        "    nodes.append(remote_x(" + ", ".join(f"_v{i}" for i in range(30)) + "))",
    ],
)
def test_split_call_agrees_with_black(line: str) -> None:
    """The shapes split without black, each compared with black on the statement alone."""
    split = split_call(line)
    assert split is not None
    indent = len(line) - len(line.lstrip(" "))
    assert [text[indent:] for text in split] == black_format(line.strip() + "\n", 100 - indent).rstrip("\n").split("\n")


@pytest.mark.parametrize(
    "header",
    [
        "def _pack_remote_connect_get_domain_capabilities_ret(v: remote_connect_get_domain_capabilities_ret) -> bytes:",
        "def _unpack_remote_connect_get_domain_capabilities_ret(buf: bytes, *, max_size: int | None = None) -> X:",
    ],
)
def test_split_signature_agrees_with_black(header: str) -> None:
    """A one-parameter signature gains black's trailing comma; a longer one stays on one line."""
    split = split_call(header)
    assert split is not None
    assert split + ["    pass"] == black_format(header + "\n    pass\n").rstrip("\n").split("\n")


def test_other_shapes_are_left_to_black() -> None:
    assert split_call("    if a_long_condition_name > 256 or another_long_condition < 10 or (x and y and z and w and v and u):") is None
    assert split_call("_x_VALUES: Final = frozenset({" + ", ".join(str(i) for i in range(60)) + "})") is None
    assert split_call("    return f(" + '"' + "a" * 120 + '")') is None
