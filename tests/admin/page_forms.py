"""Read a page's form the way a browser submits it: what is filled in, checked and selected."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_class):
        super().__init__(convert_charrefs=True)
        self.form_class = form_class
        self.in_form = False
        self.fields = []  # (name, value) pairs in page order, as a browser sends them
        self.selects = {}  # name -> [(value, selected)]
        self._select = None
        self._textarea = None
        self._text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.in_form:
            self.in_form = self.form_class in (attrs.get("class") or "").split()
            return
        if not self.in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value") or "on"))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.fields.append((name, attrs.get("value") or ""))
        elif tag == "select" and name:
            self._select = name
            self.selects.setdefault(name, [])
        elif tag == "option" and self._select is not None:
            self.selects[self._select].append((attrs.get("value"), "selected" in attrs))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "select" and self._select is not None:
            for value, selected in self.selects[self._select]:
                if selected:
                    self.fields.append((self._select, value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None


def read_form(html, form_class="admin-form"):
    """The (name, value) pairs a browser would submit for the page's form of that class (the
    console's model forms are "admin-form")."""
    reader = _FormReader(form_class)
    reader.feed(html)
    return reader.fields


def selected(html, name):
    """The values of the options selected in the select called `name`."""
    reader = _FormReader("admin-form")
    reader.feed(html)
    return {value for value, chosen in reader.selects.get(name, []) if chosen}


def as_post_data(fields, **changes):
    """The pairs as a dict of lists (a MultiDict's input), with whole fields replaced by `changes`."""
    data = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    for name, value in changes.items():
        data[name] = value if isinstance(value, list) else [value]
    return data
