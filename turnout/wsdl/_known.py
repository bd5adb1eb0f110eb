"""Small stand-ins for the well-known schemas old WSDLs import without shipping them.

rpc/encoded WSDLs import `http://schemas.xmlsoap.org/soap/encoding/` by namespace (or zeep
asks for it when `SOAP-ENC:Array` is used), and some schemas use `xml:lang`. Fetching them would
touch the network for every read, so Turnout bundles what the WSDLs refer to: the SOAP-encoding
array, struct and attribute declarations and the typed SOAP-ENC elements; the `xml:` attributes.
Written for Turnout from the SOAP 1.1 note and the XML namespace document; not the originals.
"""

from __future__ import annotations

_SIMPLE = (
    "string", "boolean", "float", "double", "decimal", "duration", "dateTime", "time", "date",
    "gYearMonth", "gYear", "gMonthDay", "gDay", "gMonth", "hexBinary", "base64Binary", "anyURI",
    "QName", "NOTATION", "normalizedString", "token", "language", "Name", "NMTOKEN", "NCName",
    "NMTOKENS", "ID", "IDREF", "ENTITY", "IDREFS", "ENTITIES", "integer", "nonPositiveInteger",
    "negativeInteger", "long", "int", "short", "byte", "nonNegativeInteger", "unsignedLong",
    "unsignedInt", "unsignedShort", "unsignedByte", "positiveInteger",
)

_SOAP_ENCODING = (
    """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:tns="http://schemas.xmlsoap.org/soap/encoding/"
           targetNamespace="http://schemas.xmlsoap.org/soap/encoding/">
  <xs:attribute name="root"><xs:simpleType><xs:restriction base="xs:boolean">
    <xs:pattern value="0|1"/></xs:restriction></xs:simpleType></xs:attribute>
  <xs:attributeGroup name="commonAttributes">
    <xs:attribute name="id" type="xs:ID"/>
    <xs:attribute name="href" type="xs:anyURI"/>
    <xs:anyAttribute namespace="##other" processContents="lax"/>
  </xs:attributeGroup>
  <xs:simpleType name="arrayCoordinate"><xs:restriction base="xs:string"/></xs:simpleType>
  <xs:attribute name="arrayType" type="xs:string"/>
  <xs:attribute name="offset" type="tns:arrayCoordinate"/>
  <xs:attribute name="position" type="tns:arrayCoordinate"/>
  <xs:attributeGroup name="arrayAttributes">
    <xs:attribute ref="tns:arrayType"/>
    <xs:attribute ref="tns:offset"/>
  </xs:attributeGroup>
  <xs:group name="Array">
    <xs:sequence>
      <xs:any namespace="##any" minOccurs="0" maxOccurs="unbounded" processContents="lax"/>
    </xs:sequence>
  </xs:group>
  <xs:complexType name="Array">
    <xs:group ref="tns:Array" minOccurs="0"/>
    <xs:attributeGroup ref="tns:arrayAttributes"/>
    <xs:attributeGroup ref="tns:commonAttributes"/>
  </xs:complexType>
  <xs:element name="Array" type="tns:Array"/>
  <xs:group name="Struct">
    <xs:sequence>
      <xs:any namespace="##any" minOccurs="0" maxOccurs="unbounded" processContents="lax"/>
    </xs:sequence>
  </xs:group>
  <xs:complexType name="Struct">
    <xs:group ref="tns:Struct" minOccurs="0"/>
    <xs:attributeGroup ref="tns:commonAttributes"/>
  </xs:complexType>
  <xs:element name="Struct" type="tns:Struct"/>
"""
    + "".join(
        f'  <xs:complexType name="{name}"><xs:simpleContent><xs:extension base="xs:{name}">'
        f'<xs:attributeGroup ref="tns:commonAttributes"/></xs:extension></xs:simpleContent>'
        f'</xs:complexType>\n  <xs:element name="{name}" type="tns:{name}"/>\n'
        for name in _SIMPLE
    )
    + "</xs:schema>\n"
).encode()

_XML_NAMESPACE = b"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           targetNamespace="http://www.w3.org/XML/1998/namespace">
  <xs:attribute name="lang" type="xs:language"/>
  <xs:attribute name="space">
    <xs:simpleType><xs:restriction base="xs:NCName">
      <xs:enumeration value="default"/><xs:enumeration value="preserve"/>
    </xs:restriction></xs:simpleType>
  </xs:attribute>
  <xs:attribute name="base" type="xs:anyURI"/>
  <xs:attribute name="id" type="xs:ID"/>
  <xs:attributeGroup name="specialAttrs">
    <xs:attribute ref="xml:base"/><xs:attribute ref="xml:lang"/>
    <xs:attribute ref="xml:space"/><xs:attribute ref="xml:id"/>
  </xs:attributeGroup>
</xs:schema>
"""

#: location -> bytes; both the locations WSDLs name and the ones zeep asks for
KNOWN_SCHEMAS: dict[str, bytes] = {
    "http://schemas.xmlsoap.org/soap/encoding/": _SOAP_ENCODING,
    "https://schemas.xmlsoap.org/soap/encoding/": _SOAP_ENCODING,
    "http://www.w3.org/2001/xml.xsd": _XML_NAMESPACE,
    "https://www.w3.org/2001/xml.xsd": _XML_NAMESPACE,
}
