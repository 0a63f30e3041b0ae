"""Tensor._repr_html_: what Jupyter shows for a tensor.

The HTML is parsed back (html.parser, which turns entities into the characters
they stand for), so each test asserts the text a reader sees and the tags the
browser would build, not the markup's spelling. Expected values are written by
hand or taken from NumPy (its repr of the same array, its indexing).
"""

from html.parser import HTMLParser

import numpy as np
import pytest

import microgradx as mgx

# the only elements the display may build: anything else came from user text
ALLOWED_TAGS = {"div", "table", "tr", "th", "td", "code", "b", "pre"}


class Shown(HTMLParser):
    """The display as a reader sees it: the summary rows, the value tables, the <pre> text."""

    def __init__(self, markup):
        super().__init__(convert_charrefs=True)
        self.tags, self.summary, self.tables, self.pre = [], {}, {}, []
        self._stack, self._text, self._title, self._key, self._row = [], "", None, None, None
        self.feed(markup)
        self.close()
        assert not self._stack, f"unclosed elements {self._stack} in {markup}"

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._stack.append(tag)
        self._text = ""
        if tag == "table" and self._title is not None:
            self.tables[self._title] = []
        elif tag == "tr" and self._title is not None:
            self._row = []
            self.tables[self._title].append(self._row)

    def handle_endtag(self, tag):
        assert self._stack and self._stack[-1] == tag, f"</{tag}> closes {self._stack}"
        self._stack.pop()
        if tag == "b":
            self._title = self._text  # "data" or "grad": the value table that follows
        elif tag == "th":
            self._key = self._text
        elif tag == "code":
            self.summary[self._key] = self._text
        elif tag == "td" and self._row is not None:
            self._row.append(self._text)
        elif tag == "pre":
            self.pre.append(self._text)

    def handle_data(self, data):
        self._text += data


def shown(t):
    s = Shown(t._repr_html_())
    assert set(s.tags) <= ALLOWED_TAGS, f"unexpected elements {set(s.tags) - ALLOWED_TAGS}"
    return s


def test_a_name_is_shown_as_text_never_as_markup():
    name = "<script>alert('x')</script> & <b>bold</b> \"q\""
    s = shown(mgx.tensor([1.0, 2.0], name=name))
    assert "script" not in s.tags  # no element made from the name
    assert s.tags.count("b") == 1  # the display's own "data" title only
    assert s.summary["name"] == repr(name)  # the same spelling as repr(t) uses


def test_an_op_name_is_escaped_too():
    class Shout(mgx.Function):
        name = "<img src=x onerror=alert(1)>"

        def forward(self, x):
            return 2 * x

        def backward(self, gy):
            return 2 * gy

    y = Shout.apply(mgx.tensor([1.0], requires_grad=True))
    s = shown(y)
    assert "img" not in s.tags
    assert s.summary["grad_fn"] == "<img src=x onerror=alert(1)>"


def test_summary_of_a_leaf():
    s = shown(mgx.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True, name="W"))
    assert s.summary == {
        "shape": "(2, 3)",
        "dtype": "float64",
        "requires_grad": "True",
        "grad_fn": "None",
        "name": "'W'",
    }
    assert s.tables == {"data": [["1.0", "2.0", "3.0"], ["4.0", "5.0", "6.0"]]}  # no grad yet


def test_a_0d_tensor_shows_its_value_in_the_summary():
    s = shown(mgx.tensor(3.5))
    want = {"shape": "()", "dtype": "float64", "requires_grad": "False", "grad_fn": "None", "data": "3.5"}
    assert s.summary == want
    assert s.tables == {} and s.pre == []


def test_a_0d_result_shows_its_gradient_in_the_summary():
    x = mgx.tensor(3.0, requires_grad=True)
    y = x * x
    y.retain_grad()
    y.backward()
    assert shown(y).summary["grad"] == "1.0"  # dy/dy
    assert shown(x).summary["grad"] == "6.0"  # d(x^2)/dx = 2x at 3


def test_a_non_leaf_names_the_op_that_made_it():
    x = mgx.tensor([1.0, 2.0], requires_grad=True)
    s = shown(x * x)
    assert s.summary["grad_fn"] == "mul"
    assert s.summary["requires_grad"] == "True"
    assert shown(mgx.tensor([1.0]) * 2.0).summary["requires_grad"] == "False"


def test_a_tensor_with_grad_shows_both_tables():
    x = mgx.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    (x * x).sum().backward()
    s = shown(x)
    assert s.tables["data"] == [["1.0", "-2.0"], ["3.0", "0.5"]]
    assert s.tables["grad"] == [["2.0", "-4.0"], ["6.0", "1.0"]]  # 2x, by hand


def test_long_axes_are_cut_to_five_ellipsis_five():
    a = np.arange(30 * 12, dtype=np.float64).reshape(30, 12)
    rows = shown(mgx.tensor(a)).tables["data"]
    keep = [0, 1, 2, 3, 4, None, 25, 26, 27, 28, 29], [0, 1, 2, 3, 4, None, 7, 8, 9, 10, 11]
    want = [["…" if i is None or j is None else f"{a[i, j]:.1f}" for j in keep[1]] for i in keep[0]]
    assert rows == want


@pytest.mark.parametrize("n, cut", [(10, False), (11, True), (1000, True)])
def test_a_1d_tensor_is_one_row_cut_only_past_ten(n, cut):
    a = np.arange(n) * 2  # int64
    (row,) = shown(mgx.tensor(a)).tables["data"]
    want = [str(v) for v in a] if not cut else [*map(str, a[:5]), "…", *map(str, a[-5:])]
    assert row == want


def test_an_empty_tensor():
    s = shown(mgx.tensor(np.zeros((0, 3))))
    assert s.summary["shape"] == "(0, 3)" and s.tables == {"data": []}


def test_float32_is_formatted_in_its_own_precision():
    a = np.array([0.1, 1 / 3, 2.5], dtype=np.float32)
    with np.printoptions(precision=10):
        (row,) = shown(mgx.tensor(a)).tables["data"]
        # NumPy prints float32 with the shortest digits that round-trip in float32; read as
        # float64 the same numbers would print as 0.1000000015 and 0.3333333433
        assert np.array2string(a)[1:-1].split() == ["0.1", "0.33333334", "2.5"]
    assert shown(mgx.tensor(a)).summary["dtype"] == "float32"
    assert row == ["0.1", "0.33333334", "2.5"]


def test_values_follow_numpys_digits():
    a = np.array([0.21924763073, -6.111107929e-10, 1e9, np.nan, -np.inf, 0.0])
    (row,) = shown(mgx.tensor(a)).tables["data"]
    # NumPy's precision 8 (its repr of -6.111107929e-10 is -6.11110793e-10); scientific
    # outside [1e-4, 1e8), as NumPy chooses for an array
    assert row == ["0.21924763", "-6.11110793e-10", "1.0e+09", "nan", "-inf", "0.0"]
    assert repr(a[1:2]) == "array([-6.11110793e-10])"


def test_int_and_bool_tensors():
    s = shown(mgx.tensor([[1, -2, 3]]))
    assert s.summary["dtype"] == "int64" and s.summary["requires_grad"] == "False"
    assert s.tables["data"] == [["1", "-2", "3"]]
    assert shown(mgx.tensor([True, False])).tables["data"] == [["True", "False"]]


def test_three_dimensions_show_numpys_text():
    a = np.arange(2 * 3 * 4.0).reshape(2, 3, 4)
    s = shown(mgx.tensor(a))
    assert s.tables == {} and s.pre == [np.array2string(a)]
    big = np.zeros((20, 20, 20))  # 8000 elements: NumPy's own summary with "..."
    assert shown(mgx.tensor(big)).pre == [np.array2string(big)]
    assert "..." in np.array2string(big)


def test_jupyter_uses_it():
    formatters = pytest.importorskip("IPython.core.formatters", reason="IPython comes with ipykernel")
    data, _ = formatters.DisplayFormatter().format(mgx.tensor([1.0, 2.0], name="x"))
    assert data["text/plain"] == "tensor([1., 2.], name='x')"
    assert Shown(data["text/html"]).summary["name"] == "'x'"


def test_data_replaced_by_hand_falls_back_to_repr():
    t = mgx.tensor([1.0, 2.0])
    t.data = [1.0, 2.0]  # the escape hatch misused: Jupyter then shows repr(t), which names the problem
    assert t._repr_html_() is None
