/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What Debian's static libarchive asks of libxml2, answered with failures.
 *
 * kiln links libarchive.a (docs/internals/footprint.md). libarchive's table
 * of write formats (archive_write_set_format.o, which the pax writer kiln
 * uses needs for one helper) names every writer, among them xar's, which
 * writes its table of contents with libxml2; and Debian's libxml2.a needs
 * ICU (C++, libstdc++ and 30 MB of data) for its encodings. kiln never
 * selects xar: it writes pax (store/archive-common.c) and reads tar only
 * (store/load.c). So instead of libxml2 the link gets these 14 functions,
 * each of which fails the way libxml2 fails when it cannot allocate: if a
 * xar writer were ever set up, it would stop with libarchive's own error
 * ("xmlBufferCreate() couldn't create xml buffer") and write nothing.
 *
 * A libarchive that needs another libxml2 function fails to link (the
 * signal to revisit this file); reading xar (archive_read_support_format_xar
 * or _all) would need libxml2's reader and fails to link the same way.
 */
#include <stddef.h>

/* libxml2's types, opaque here: only the shapes of the calls matter */
struct kiln_no_xml_buffer;
struct kiln_no_xml_writer;

struct kiln_no_xml_buffer *xmlBufferCreate(void);
void xmlBufferFree(struct kiln_no_xml_buffer *buf);
struct kiln_no_xml_writer *xmlNewTextWriterMemory(struct kiln_no_xml_buffer *buf, int compression);
void xmlFreeTextWriter(struct kiln_no_xml_writer *w);
int xmlTextWriterSetIndent(struct kiln_no_xml_writer *w, int indent);
int xmlTextWriterStartDocument(struct kiln_no_xml_writer *w, const char *version,
			       const char *encoding, const char *standalone);
int xmlTextWriterEndDocument(struct kiln_no_xml_writer *w);
int xmlTextWriterStartElement(struct kiln_no_xml_writer *w, const unsigned char *name);
int xmlTextWriterEndElement(struct kiln_no_xml_writer *w);
int xmlTextWriterWriteAttribute(struct kiln_no_xml_writer *w, const unsigned char *name,
				const unsigned char *content);
int xmlTextWriterWriteFormatAttribute(struct kiln_no_xml_writer *w, const unsigned char *name,
				      const char *format, ...);
int xmlTextWriterWriteString(struct kiln_no_xml_writer *w, const unsigned char *content);
int xmlTextWriterWriteBase64(struct kiln_no_xml_writer *w, const char *data, int start, int len);
int UTF8Toisolat1(unsigned char *out, int *outlen, const unsigned char *in, int *inlen);

struct kiln_no_xml_buffer *xmlBufferCreate(void)
{
	return NULL;
}

void xmlBufferFree(struct kiln_no_xml_buffer *buf)
{
	(void) buf;
}

struct kiln_no_xml_writer *xmlNewTextWriterMemory(struct kiln_no_xml_buffer *buf, int compression)
{
	(void) buf, (void) compression;
	return NULL;
}

void xmlFreeTextWriter(struct kiln_no_xml_writer *w)
{
	(void) w;
}

int xmlTextWriterSetIndent(struct kiln_no_xml_writer *w, int indent)
{
	(void) w, (void) indent;
	return -1;
}

int xmlTextWriterStartDocument(struct kiln_no_xml_writer *w, const char *version,
			       const char *encoding, const char *standalone)
{
	(void) w, (void) version, (void) encoding, (void) standalone;
	return -1;
}

int xmlTextWriterEndDocument(struct kiln_no_xml_writer *w)
{
	(void) w;
	return -1;
}

int xmlTextWriterStartElement(struct kiln_no_xml_writer *w, const unsigned char *name)
{
	(void) w, (void) name;
	return -1;
}

int xmlTextWriterEndElement(struct kiln_no_xml_writer *w)
{
	(void) w;
	return -1;
}

int xmlTextWriterWriteAttribute(struct kiln_no_xml_writer *w, const unsigned char *name,
				const unsigned char *content)
{
	(void) w, (void) name, (void) content;
	return -1;
}

int xmlTextWriterWriteFormatAttribute(struct kiln_no_xml_writer *w, const unsigned char *name,
				      const char *format, ...)
{
	(void) w, (void) name, (void) format;
	return -1;
}

int xmlTextWriterWriteString(struct kiln_no_xml_writer *w, const unsigned char *content)
{
	(void) w, (void) content;
	return -1;
}

int xmlTextWriterWriteBase64(struct kiln_no_xml_writer *w, const char *data, int start, int len)
{
	(void) w, (void) data, (void) start, (void) len;
	return -1;
}

int UTF8Toisolat1(unsigned char *out, int *outlen, const unsigned char *in, int *inlen)
{
	(void) out, (void) outlen, (void) in, (void) inlen;
	return -1;
}
