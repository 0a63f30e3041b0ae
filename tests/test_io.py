"""save / load: round trips, atomic writes, and refusing files that would need pickle."""

import io
import os
import pickle
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import microgradx as mgx
from microgradx import _files, nn


def test_round_trip_keeps_names_order_values_and_dtypes(tmp_path):
    model = nn.MLP([3, 4, 2])
    path = mgx.save(model.state_dict(), tmp_path / "model.npz")
    loaded = mgx.load(path)
    assert list(loaded) == [n for n, _ in model.named_parameters()]
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded[k], v)
        assert loaded[k].dtype == v.dtype
    fresh = nn.MLP([3, 4, 2])
    fresh.load_state_dict(loaded)
    x = mgx.tensor(np.ones((2, 3)))
    np.testing.assert_array_equal(fresh(x).data, model(x).data)


def test_keys_that_are_also_savez_arguments_are_plain_keys(tmp_path):
    sd = {"file": np.ones(2), "allow_pickle": np.zeros(1), "layers.0.weight": np.eye(2)}
    loaded = mgx.load(mgx.save(sd, tmp_path / "k.npz"))
    assert list(loaded) == list(sd)
    for k in sd:
        np.testing.assert_array_equal(loaded[k], sd[k])
    np.testing.assert_array_equal(np.load(tmp_path / "k.npz")["layers.0.weight"], np.eye(2))  # plain .npz


def test_tensors_and_arrays_are_both_accepted(tmp_path):
    mgx.save({"a": mgx.tensor([1.0, 2.0]), "b": np.arange(3)}, tmp_path / "x.npz")
    loaded = mgx.load(tmp_path / "x.npz")
    assert loaded["a"].tolist() == [1.0, 2.0] and loaded["b"].tolist() == [0, 1, 2]


def test_a_crash_while_writing_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mgx.save({"w": np.ones(3)}, path)

    def crash(file, array, allow_pickle=False):
        file.write(b"\x93NUMPY half an array")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(np.lib.format, "write_array", crash)
    with pytest.raises(KeyboardInterrupt):
        mgx.save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(mgx.load(path)["w"], np.ones(3))
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left behind


def test_a_file_with_object_arrays_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([{"__reduce__": "os.system"}], dtype=object))
    with pytest.raises(ValueError, match="object arrays.*refusing to load it"):
        mgx.load(path)


def test_bad_inputs(tmp_path):
    with pytest.raises(TypeError, match="'s' has dtype <U3"):
        mgx.save({"s": np.array(["abc"])}, tmp_path / "s.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError):
        mgx.load(tmp_path / "junk.npz")


def test_a_saved_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = mgx.save({"w": np.ones(2)}, tmp_path / "w.npz")
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


# --------------------------------------------------------------------------- #
# issue 11: keys round-trip exactly, and are refused before writing when they cannot
# --------------------------------------------------------------------------- #
def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize(
    "sd",
    [
        {"a.npy": np.array([1.0]), "a": np.array([2.0])},  # loaded as {"a.npy": [2.], "a": [2.]} before
        {"a\x00b": np.array([1.0]), "a": np.array([2.0])},  # "a\x00b" came back as "a"
        {"%41": np.array([1.0]), "A": np.array([2.0])},  # the escape character itself
        {"../x": np.ones(1), "/etc/x": np.zeros(1), "a/b\\c": np.ones(2), "": np.ones(3), "..": np.ones(1)},
        {"\x1b[31m\x07": np.ones(1), "名字.權重": np.ones(1), "\ud800": np.ones(1), " x ": np.ones(1)},
    ],
)
def test_every_key_round_trips_exactly(tmp_path, sd):
    loaded = mgx.load(mgx.save(sd, tmp_path / "k.npz"))
    assert list(loaded) == list(sd)
    assert all(same_bits(loaded[k], sd[k]) for k in sd)


@settings(max_examples=60)
@given(
    st.dictionaries(
        st.text(alphabet=st.characters(), max_size=12),
        hnp.arrays(
            st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.uint16, np.bool_]),
            hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
        ),
        max_size=6,
    )
)
def test_random_state_dicts_round_trip_key_for_key_and_bit_for_bit(sd):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.npz")
        loaded = mgx.load(mgx.save(sd, path))
        names = zipfile.ZipFile(path).namelist()
    assert list(loaded) == list(sd)
    assert all(same_bits(loaded[k], np.asarray(sd[k])) for k in sd)
    # no member name is a path: no unzip tool can write outside the folder it extracts into
    assert all("/" not in n and "\\" not in n and n.isprintable() and n.isascii() for n in names)


def test_nan_payloads_and_signed_zeros_survive(tmp_path):
    a = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324]).view(np.uint64)
    a[4] |= 0xDEAD  # a NaN with a payload
    sd = {"w": a.view(np.float64), "h": np.array([-0.0, np.nan], dtype=np.float16)}
    loaded = mgx.load(mgx.save(sd, tmp_path / "n.npz"))
    assert same_bits(loaded["w"], sd["w"]) and same_bits(loaded["h"], sd["h"])


def test_keys_that_are_paths_are_stored_as_plain_file_names(tmp_path):
    path = mgx.save({"../x": np.ones(1), "/etc/x": np.ones(1), "a\\..\\b": np.ones(1)}, tmp_path / "p.npz")
    names = zipfile.ZipFile(path).namelist()
    assert names == ["..%2Fx.npy", "%2Fetc%2Fx.npy", "a%5C..%5Cb.npy"]
    out = tmp_path / "unzipped"
    zipfile.ZipFile(path).extractall(out)
    assert sorted(os.listdir(out)) == sorted(names)  # all inside, none elsewhere
    assert sorted(os.listdir(tmp_path)) == ["p.npz", "unzipped"]


def test_ordinary_keys_are_the_member_names_np_load_sees(tmp_path):
    sd = {"layers.0.weight": np.eye(2), "fc1.bias": np.ones(2)}
    with np.load(mgx.save(sd, tmp_path / "m.npz")) as npz:
        assert npz.files == list(sd)


@pytest.mark.parametrize("bad", [{1: np.ones(1), "1": np.ones(1)}, {"a": np.ones(1), ("a",): np.ones(1)}])
def test_a_key_that_is_not_a_string_is_refused_before_anything_is_written(tmp_path, bad):
    path = tmp_path / "ckpt.npz"
    mgx.save({"w": np.ones(2)}, path)
    before = path.read_bytes()
    key = next(k for k in bad if not isinstance(k, str))
    with pytest.raises(
        TypeError, match=re.escape(f"the key {key!r} is a {type(key).__name__}; keys must be strings")
    ):
        mgx.save(bad, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_a_value_that_cannot_be_saved_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "new.npz"
    with pytest.raises(TypeError, match="'b' has dtype complex128"):
        mgx.save({"a": np.ones(2), "b": np.ones(2) * 1j}, path)
    with pytest.raises(ValueError, match="'c' is not an array"):
        mgx.save({"c": [[1.0], [2.0, 3.0]]}, path)
    with pytest.raises(TypeError, match="expected a dict of arrays"):
        mgx.save([np.ones(2)], path)
    with pytest.raises(
        TypeError, match=re.escape("got MLP; save its state_dict(): mgx.save(model.state_dict()")
    ):
        mgx.save(nn.MLP([2, 1]), path)
    with pytest.raises(TypeError, match="got str; the state dict comes first"):
        mgx.save(str(path), {"w": np.ones(1)})
    with pytest.raises(
        TypeError, match=re.escape("read the file first: model.load_state_dict(mgx.load(path))")
    ):
        nn.MLP([2, 1]).load_state_dict(str(path))
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- #
# issue 11: load returns only numeric arrays, and says what a file is when it is not a checkpoint
# --------------------------------------------------------------------------- #
def write_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def npy_bytes(arr, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


@pytest.mark.parametrize(
    "member, data",
    [
        ("readme.txt", b"hello"),
        ("garbage", b"\x00\x01\x02"),
        ("w.pkl", pickle.dumps({"w": [1.0]})),
    ],
)
def test_members_that_are_not_npy_arrays_are_refused(tmp_path, member, data):
    path = write_zip(tmp_path / "x.npz", {"w.npy": npy_bytes(np.ones(2)), member: data})
    with pytest.raises(ValueError, match=re.escape(f"holds {member!r}, which is not a .npy array")):
        mgx.load(path)


def test_a_damaged_npy_member_is_named(tmp_path):
    path = write_zip(tmp_path / "x.npz", {"w.npy": b"\x93NUMPY\x01\x00garbage"})
    with pytest.raises(ValueError, match=r"'w.npy' in .* is not a valid .npy array"):
        mgx.load(path)


@pytest.mark.parametrize(
    "arr",
    [
        np.array(["x", "y"]),
        np.array([1 + 2j]),
        np.array(["2026-11-29"], dtype="datetime64[D]"),
        np.array([b"ab"]),
    ],
    ids=["str", "complex", "datetime", "bytes"],
)
def test_arrays_that_are_not_bool_int_or_float_are_refused(tmp_path, arr):
    path = write_zip(tmp_path / "x.npz", {"w.npy": npy_bytes(np.ones(2)), "s.npy": npy_bytes(arr)})
    with pytest.raises(
        ValueError, match=f"'s' in .* has dtype {re.escape(str(arr.dtype))}; a checkpoint holds only"
    ):
        mgx.load(path)


def test_object_arrays_in_a_zip_are_refused_without_unpickling(tmp_path):
    path = write_zip(
        tmp_path / "x.npz", {"o.npy": npy_bytes(np.array([None, 1], dtype=object), allow_pickle=True)}
    )
    with pytest.raises(ValueError, match=r"contains object arrays \('o.npy'\).*refusing to load it"):
        mgx.load(path)


def test_files_that_are_not_checkpoints_say_what_they_are(tmp_path):
    cases = {
        "empty.npz": (b"", r"is empty \(0 bytes\), not a checkpoint"),
        "text.npz": (
            b"weight = 1.0\nbias = 2.0\n",
            r"is not a checkpoint written by mgx.save .*starts with b'weight",
        ),
        "pickle.pt": (pickle.dumps({"w": [1.0]}), r"looks like a pickle .*refusing to unpickle it"),
        "array.npy": (npy_bytes(np.ones(3)), r"is a single NumPy array \(.npy\), not a state dict"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=message):
            mgx.load(tmp_path / name)


def test_duplicate_member_names_are_refused(tmp_path):
    path = tmp_path / "d.npz"
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "w") as zf:
        zf.writestr("w.npy", npy_bytes(np.ones(1)))
        zf.writestr("w.npy", npy_bytes(np.zeros(1)))
    with pytest.raises(ValueError, match="holds the key 'w' twice"):
        mgx.load(path)


# --------------------------------------------------------------------------- #
# issue 11: load_state_dict checks every entry before it touches a parameter
# --------------------------------------------------------------------------- #
def test_a_bad_entry_changes_no_parameter():
    lin = nn.Linear(2, 2)
    before = {k: v.copy() for k, v in lin.state_dict().items()}
    sd = {"weight": lin.weight.data + 1, "bias": np.array(["x", "y"])}
    with pytest.raises(
        TypeError, match=r"'bias' has dtype <U1 in the state dict; a parameter \(float64\) takes only"
    ):
        lin.load_state_dict(sd)
    assert all(np.array_equal(lin.state_dict()[k], before[k]) for k in before)


@pytest.mark.parametrize(
    "value, message",
    [
        (np.array([None, None], dtype=object), "'bias' has dtype object"),  # loaded as NaN before
        (np.array([1 + 2j, 3 + 0j]), "'bias' has dtype complex128"),  # lost the imaginary part with a warning
        ([[1.0], [2.0, 3.0]], "'bias' is not an array"),
    ],
)
def test_values_that_are_not_real_numbers_are_refused(value, message):
    lin = nn.Linear(2, 2)
    before = lin.bias.data.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning either
        with pytest.raises(TypeError, match=re.escape(message)):
            lin.load_state_dict({"weight": lin.weight.data, "bias": value})
    assert np.array_equal(lin.bias.data, before)


def test_a_cast_that_loses_values_needs_cast_true():
    lin = nn.Linear(2, 1, dtype=np.float32)  # weight (2, 1), as in the book: x @ W
    sd = {"weight": np.array([[0.1], [0.5]]), "bias": np.array([2.0])}  # 0.1 is not a float32
    with pytest.raises(
        TypeError, match=r"'weight' is float64 in the state dict but float32 .*0.1.*pass cast=True"
    ):
        lin.load_state_dict(sd)
    assert lin.bias.data[0] != 2.0
    lin.load_state_dict(sd, cast=True)
    assert lin.weight.data.tolist() == [[np.float32(0.1)], [0.5]] and lin.weight.dtype == np.float32
    lin.load_state_dict(
        {"weight": np.array([[0.25], [0.5]]), "bias": np.array([True])}
    )  # exact: no cast needed
    assert lin.weight.data.tolist() == [[0.25], [0.5]] and lin.bias.data.tolist() == [1.0]
    with pytest.raises(TypeError, match="1e\\+300.* overflows to infinity in the parameter's dtype float32"):
        lin.load_state_dict({"weight": np.array([[1e300], [0.0]]), "bias": np.array([1.0])}, cast=True)
    lin64 = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="9007199254740993 .* would become"):
        lin64.load_state_dict({"weight": np.array([[2**53 + 1]]), "bias": np.array([0])})


# --------------------------------------------------------------------------- #
# issue 11: save keeps the file's permissions and refuses what open(path, "wb") refuses
# --------------------------------------------------------------------------- #
def test_an_existing_checkpoint_keeps_its_permissions(tmp_path):
    path = tmp_path / "private.npz"
    mgx.save({"w": np.ones(2)}, path)
    os.chmod(path, 0o600)
    mgx.save({"w": np.zeros(2)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # was 0644 (world-readable) before
    os.chmod(path, 0o640)
    mgx.save({"w": np.ones(2)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def as_unprivileged(fn):
    """Run ``fn()`` as a user without root's right to write read-only files (fork + setuid when root);
    returns what it raised, or None."""
    if os.geteuid() != 0:
        try:
            fn()
        except Exception as e:
            return type(e).__name__
        return None
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        result = b"None"
        try:
            os.setgid(65534)
            os.setuid(65534)
            fn()
        except BaseException as e:
            result = type(e).__name__.encode()
        os.write(w, result)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        result = f.read().decode()
    os.waitpid(pid, 0)
    return None if result == "None" else result


def test_a_read_only_checkpoint_is_not_overwritten():
    folder = tempfile.mkdtemp()
    try:
        os.chmod(folder, 0o777)  # writable by all: only the file's own mode protects it
        path = os.path.join(folder, "ro.npz")
        mgx.save({"w": np.ones(2)}, path)
        os.chmod(path, 0o444)
        before = open(path, "rb").read()

        def plain_open():
            with open(path, "wb"):
                pass

        assert as_unprivileged(plain_open) == "PermissionError"  # what open() does ...
        assert (
            as_unprivileged(lambda: mgx.save({"w": np.zeros(2)}, path)) == "PermissionError"
        )  # ... save does
        assert open(path, "rb").read() == before and sorted(os.listdir(folder)) == ["ro.npz"]
    finally:
        shutil.rmtree(folder)


def test_a_folder_is_not_replaced_by_a_checkpoint(tmp_path):
    (tmp_path / "ckpt.npz").mkdir()
    with pytest.raises(IsADirectoryError):
        mgx.save({"w": np.ones(2)}, tmp_path / "ckpt.npz")
    assert (tmp_path / "ckpt.npz").is_dir()


def test_a_symbolic_link_is_written_through(tmp_path):
    real = tmp_path / "real.npz"
    mgx.save({"w": np.ones(2)}, real)
    (tmp_path / "link.npz").symlink_to(real)
    mgx.save({"w": np.zeros(2)}, tmp_path / "link.npz")
    assert (tmp_path / "link.npz").is_symlink()
    assert mgx.load(real)["w"].tolist() == [0.0, 0.0]


# --------------------------------------------------------------------------- #
# issue 11: killed saves leave recognisable temporary files, which the next save removes
# --------------------------------------------------------------------------- #
KILLED_SAVE = """
import sys, time
import numpy as np
import microgradx as mgx

def stall(file, array, allow_pickle=False):
    file.write(b"\\x93NUMPY" + b"x" * 100_000)
    print("writing", flush=True)
    time.sleep(60)

np.lib.format.write_array = stall
mgx.save({"w": np.zeros(3)}, sys.argv[1])
"""


def killed_save(path):
    """Start a save of ``path`` in another process and SIGKILL it in mid-write."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.Popen(
        [sys.executable, "-c", KILLED_SAVE, str(path)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": repo},
    )
    assert p.stdout.readline() == b"writing\n"
    p.send_signal(signal.SIGKILL)
    p.wait()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_the_next_save_removes_the_temporary_files_of_killed_saves(tmp_path):
    path = tmp_path / "ckpt.npz"
    mgx.save({"w": np.ones(3)}, path)
    other = tmp_path / "other.npz"
    for target in (path, path, path, other):
        killed_save(target)
    # each killed save left its temporary file, recognisably named; each new save removed the
    # leftovers of the killed ones before it (24 kills left 20 files before)
    left = sorted(os.listdir(tmp_path))
    assert len(left) == 3 and re.fullmatch(r"\.ckpt\.npz\.[0-9a-f]{16}\.mgx-tmp", left[0])
    assert re.fullmatch(r"\.other\.npz\.[0-9a-f]{16}\.mgx-tmp", left[1])
    np.testing.assert_array_equal(mgx.load(path)["w"], np.ones(3))  # the checkpoint itself is intact
    mgx.save({"w": np.full(3, 2.0)}, path)
    assert sorted(os.listdir(tmp_path)) == [left[1], "ckpt.npz"]  # another path's leftovers are not ours
    np.testing.assert_array_equal(mgx.load(path)["w"], np.full(3, 2.0))


def test_a_save_in_progress_keeps_its_temporary_file(tmp_path):
    path = str(tmp_path / "ckpt.npz")
    fd, tmp = _files._create_temp(path)  # another writer, still writing: it holds the lock
    try:
        mgx.save({"w": np.ones(3)}, path)
        assert os.path.exists(tmp)
    finally:
        os.close(fd)
    mgx.save({"w": np.ones(3)}, path)  # its writer is gone now
    assert os.listdir(tmp_path) == ["ckpt.npz"]
