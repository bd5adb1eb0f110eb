"""Readable XPaths for differences: `/soap:Envelope/soap:Body/pnc:Resp/pnc:person[2]/@id`.

Prefixes come from one map per diff, so every path in a report spells a namespace the same way:
the prefix the legacy document gives it, else the new document's, else `ns0`, `ns1`... (the
legacy document is scanned for its prefixes only when a new-only namespace needs a name). A
position is written only where siblings share the name, counting from 1, as XPath does.
"""

from __future__ import annotations

from lxml import etree


class PathNamer:
    """Names elements and attributes of the two documents of one diff, with one prefix map."""

    def __init__(self, legacy_root: etree._Element) -> None:
        self._legacy_root = legacy_root.getroottree().getroot()
        self._prefixes: dict[str, str] = {}  # namespace URI -> prefix
        self._uris: dict[str, str] = {}  # prefix -> namespace URI
        self._seeded = False

    @property
    def namespaces(self) -> dict[str, str]:
        """Prefix to namespace URI, for every prefix the paths so far have used."""
        return dict(self._uris)

    def element(self, element: etree._Element) -> str:
        steps = []
        node: etree._Element | None = element
        while node is not None:
            steps.append(self._step(node))
            node = node.getparent()
        return "/" + "/".join(reversed(steps))

    def attribute(self, element: etree._Element, name: str) -> str:
        return f"{self.element(element)}/@{self.attribute_name(element, name)}"

    def attribute_name(self, element: etree._Element, name: str) -> str:
        qname = etree.QName(name)
        if qname.namespace is None:
            return qname.localname
        found = self._prefixes.get(qname.namespace)
        if found is None:
            nsmap = element.nsmap
            preferred = next((p for p, u in nsmap.items() if u == qname.namespace and p), None)
            found = self._claim(qname.namespace, preferred)
        return f"{found}:{qname.localname}"

    def name(self, element: etree._Element) -> str:
        """The element's qualified name with the diff's prefixes, e.g. `pnc:person`."""
        tag = element.tag
        if tag[0] != "{":
            return tag
        namespace, local = tag[1:].split("}", 1)
        found = self._prefixes.get(namespace)
        if found is None:
            if element.getroottree().getroot() is not self._legacy_root:
                self._seed()  # the legacy document's prefix for it, if it has one, wins
                found = self._prefixes.get(namespace)
            if found is None:
                found = self._claim(namespace, element.prefix)
        return f"{found}:{local}"

    def _step(self, element: etree._Element) -> str:
        name = self.name(element)
        parent = element.getparent()
        if parent is None:
            return name
        tag = element.tag
        position = count = 0
        for sibling in parent:
            if sibling.tag == tag:
                count += 1
                if sibling is element:
                    position = count
        return f"{name}[{position}]" if count > 1 else name

    def _seed(self) -> None:
        """Claim the legacy document's own prefixes first, so they win over the new one's."""
        if self._seeded:
            return
        self._seeded = True
        for node in self._legacy_root.iter(etree.Element):
            prefix = node.prefix
            if prefix:
                namespace = node.tag[1:].split("}", 1)[0]
                if namespace not in self._prefixes:
                    self._claim(namespace, prefix)

    def _claim(self, namespace: str, preferred: str | None) -> str:
        prefix = preferred
        if not prefix or prefix in self._uris:
            index = 0
            while f"ns{index}" in self._uris:
                index += 1
            prefix = f"ns{index}"
        self._prefixes[namespace] = prefix
        self._uris[prefix] = namespace
        return prefix
