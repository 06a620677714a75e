package mongosim

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// serverString renders a document as the server's BSONObj::toString() does
// (src/mongo/bson/bsonobj.cpp and BSONElement::toString in bsonelement.cpp,
// with full=false), which is what the server puts in errmsg, for example
// "not authorized on admin to execute command { updateUser: "x", ... }".
func serverString(doc bsoncore.Document) string {
	var sb strings.Builder
	writeDocString(&sb, doc, false)
	return sb.String()
}

func writeDocString(sb *strings.Builder, doc []byte, isArray bool) {
	elems, err := bsoncore.Document(doc).Elements()
	if err != nil || len(elems) == 0 {
		if isArray {
			sb.WriteString("[]")
		} else {
			sb.WriteString("{}")
		}
		return
	}
	if isArray {
		sb.WriteString("[ ")
	} else {
		sb.WriteString("{ ")
	}
	for i, e := range elems {
		if i > 0 {
			sb.WriteString(", ")
		}
		if !isArray {
			sb.WriteString(e.Key())
			sb.WriteString(": ")
		}
		writeValueString(sb, e.Value())
	}
	if isArray {
		sb.WriteString(" ]")
	} else {
		sb.WriteString(" }")
	}
}

func writeValueString(sb *strings.Builder, v bsoncore.Value) {
	switch v.Type {
	case bsoncore.TypeEmbeddedDocument:
		writeDocString(sb, v.Data, false)
	case bsoncore.TypeArray:
		writeDocString(sb, v.Data, true)
	case bsoncore.TypeDouble:
		sb.WriteString(doubleNice(v.Double()))
	case bsoncore.TypeInt32:
		sb.WriteString(strconv.FormatInt(int64(v.Int32()), 10))
	case bsoncore.TypeInt64:
		sb.WriteString(strconv.FormatInt(v.Int64(), 10))
	case bsoncore.TypeDecimal128:
		h, l := v.Decimal128()
		sb.WriteString(bson.NewDecimal128(h, l).String())
	case bsoncore.TypeBoolean:
		if v.Boolean() {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
	case bsoncore.TypeNull:
		sb.WriteString("null")
	case bsoncore.TypeUndefined:
		sb.WriteString("undefined")
	case bsoncore.TypeMaxKey:
		sb.WriteString("MaxKey")
	case bsoncore.TypeMinKey:
		sb.WriteString("MinKey")
	case bsoncore.TypeString, bsoncore.TypeSymbol:
		var s string
		if v.Type == bsoncore.TypeString {
			s = v.StringValue()
		} else {
			s = v.Symbol()
		}
		sb.WriteByte('"')
		if len(s)+1 > 160 { // valuestrsize() counts the terminating NUL
			sb.WriteString(s[:150])
			sb.WriteString("...\"")
		} else {
			sb.WriteString(s)
			sb.WriteByte('"')
		}
	case bsoncore.TypeJavaScript:
		s := v.JavaScript()
		if len(s)+1 > 80 {
			sb.WriteString(s[:70])
			sb.WriteString("...")
		} else {
			sb.WriteString(s)
		}
	case bsoncore.TypeCodeWithScope:
		code, scope := v.CodeWithScope()
		sb.WriteString("CodeWScope( ")
		sb.WriteString(code)
		sb.WriteString(", ")
		writeDocString(sb, scope, false)
		sb.WriteString(")")
	case bsoncore.TypeObjectID:
		oid := v.ObjectID()
		sb.WriteString("ObjectId('")
		sb.WriteString(hex.EncodeToString(oid[:]))
		sb.WriteString("')")
	case bsoncore.TypeDBPointer:
		ns, oid := v.DBPointer()
		sb.WriteString("DBRef('")
		sb.WriteString(ns)
		sb.WriteString("',")
		sb.WriteString(hex.EncodeToString(oid[:]))
		sb.WriteString(")")
	case bsoncore.TypeDateTime:
		sb.WriteString("new Date(")
		sb.WriteString(strconv.FormatInt(v.DateTime(), 10))
		sb.WriteString(")")
	case bsoncore.TypeRegex:
		p, o := v.Regex()
		sb.WriteString("/")
		sb.WriteString(p)
		sb.WriteString("/")
		sb.WriteString(o)
	case bsoncore.TypeBinary:
		sub, data := v.Binary()
		if sub == 4 && len(data) == 16 {
			h := hex.EncodeToString(data)
			sb.WriteString(`UUID("` + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32] + `")`)
			return
		}
		sb.WriteString("BinData(")
		sb.WriteString(strconv.Itoa(int(sub)))
		sb.WriteString(", ")
		if len(data) > 80 {
			sb.WriteString(strings.ToUpper(hex.EncodeToString(data[:70])))
			sb.WriteString("...)")
		} else {
			sb.WriteString(strings.ToUpper(hex.EncodeToString(data)))
			sb.WriteString(")")
		}
	case bsoncore.TypeTimestamp:
		t, i := v.Timestamp()
		sb.WriteString("Timestamp(")
		sb.WriteString(strconv.FormatUint(uint64(t), 10))
		sb.WriteString(", ")
		sb.WriteString(strconv.FormatUint(uint64(i), 10))
		sb.WriteString(")")
	default:
		sb.WriteString("?type=")
		sb.WriteString(strconv.Itoa(int(v.Type)))
	}
}

// doubleNice is StringBuilder::appendDoubleNice: printf("%.16g"), then ".0"
// when the result has no '.', 'E' or 'N' (so 600000.0 prints as "600000.0"
// and 1e+20 as "1e+20.0", as glibc formats it).
func doubleNice(f float64) string {
	var s string
	switch {
	case math.IsNaN(f):
		s = "nan"
	case math.IsInf(f, 1):
		s = "inf"
	case math.IsInf(f, -1):
		s = "-inf"
	default:
		s = strconv.FormatFloat(f, 'g', 16, 64)
	}
	if !strings.ContainsAny(s, ".EN") {
		s += ".0"
	}
	return s
}

// redactedCommand is the command as the server shows it in an Unauthorized
// errmsg: Command::snipForLogging replaces every top-level field named in
// sensitiveFieldNames() — "pwd" for the user management commands — with the
// string "xxx" (src/mongo/db/commands.cpp; auth::redactPasswordData).
func redactedCommand(body bsoncore.Document) bsoncore.Document {
	elems, err := body.Elements()
	if err != nil {
		return body
	}
	idx, b := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		if e.Key() == "pwd" {
			b = bsoncore.AppendStringElement(b, "pwd", "xxx")
			continue
		}
		b = append(b, e...)
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return b
}
