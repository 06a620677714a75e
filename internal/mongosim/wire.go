package mongosim

import (
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// The wire framing (reading, parsing and encoding messages) is
// internal/wiremsg's; what is here are the bsoncore helpers the simulator
// rewrites commands and builds replies with.

// withoutFields copies doc without the named top-level fields.
func withoutFields(doc bsoncore.Document, names ...string) bsoncore.Document {
	return filterFields(doc, func(k string) bool {
		for _, n := range names {
			if k == n {
				return false
			}
		}
		return true
	})
}

func filterFields(doc bsoncore.Document, keep func(string) bool) bsoncore.Document {
	elems, err := doc.Elements()
	if err != nil {
		return doc
	}
	idx, b := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		if keep(e.Key()) {
			b = append(b, e...)
		}
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return b
}

// replaceField copies doc with the value of key replaced (appended when absent).
func replaceField(doc bsoncore.Document, key string, v bsoncore.Value) bsoncore.Document {
	elems, err := doc.Elements()
	if err != nil {
		return doc
	}
	idx, b := bsoncore.AppendDocumentStart(nil)
	done := false
	for _, e := range elems {
		if e.Key() == key {
			b = bsoncore.AppendValueElement(b, key, v)
			done = true
			continue
		}
		b = append(b, e...)
	}
	if !done {
		b = bsoncore.AppendValueElement(b, key, v)
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return b
}

// hasField reports whether doc has the top-level key.
func hasField(doc bsoncore.Document, key string) bool {
	_, err := doc.LookupErr(key)
	return err == nil
}

func stringField(doc bsoncore.Document, key string) string {
	s, _ := doc.Lookup(key).StringValueOK()
	return s
}

// okValue reports whether a reply says ok: 1.
func okValue(doc bsoncore.Document) bool {
	v, err := doc.LookupErr("ok")
	if err != nil {
		return false
	}
	if f, ok := v.AsFloat64OK(); ok {
		return f == 1
	}
	if b, ok := v.BooleanOK(); ok {
		return b
	}
	return false
}

func intValue(v bsoncore.Value) (int64, bool) {
	switch v.Type {
	case bsoncore.TypeInt32, bsoncore.TypeInt64, bsoncore.TypeDouble, bsoncore.TypeDecimal128:
		if f, ok := v.AsFloat64OK(); ok {
			return int64(f), true
		}
		if i, ok := v.AsInt64OK(); ok {
			return i, true
		}
	}
	return 0, false
}

// errorReply builds the server's error reply {ok: 0, errmsg, code, codeName}
// (src/mongo/db/commands.cpp, CommandHelpers::appendCommandStatusNoThrow).
func errorReply(code int32, codeName, errmsg string, labels ...string) bsoncore.Document {
	if codeName == "" {
		codeName = codeNames[code]
	}
	b := bsoncore.NewDocumentBuilder().
		AppendDouble("ok", 0).
		AppendString("errmsg", errmsg).
		AppendInt32("code", code).
		AppendString("codeName", codeName)
	if len(labels) > 0 {
		arr := bsoncore.NewArrayBuilder()
		for _, l := range labels {
			arr.AppendString(l)
		}
		b.AppendArray("errorLabels", arr.Build())
	}
	return b.Build()
}

func okReply() bsoncore.Document {
	return bsoncore.NewDocumentBuilder().AppendDouble("ok", 1).Build()
}
