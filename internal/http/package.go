package http

import (
	"bytes"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"faldone/internal/conservazione"
	"faldone/internal/faldone"
)

// getDossierPackage answers the conservation package of a comune's dossier:
// a ZIP with every version's PDF, its Allegato 5 metadata, its archive
// record and inclusion proof, the signed checkpoint they are proved
// against, and a UNI 11386 (SInCRO) index. A comune key gets only its own
// comune's package.
func (s *Server) getDossierPackage(c *fiber.Ctx) error {
	istat := c.Params("istat")
	cm, ok := s.cfg.Templates.Registry().Lookup(istat)
	if !ok {
		return faldone.Errorf(faldone.ENOTFOUND, "no comune has ISTAT code %q", istat)
	}
	if err := s.checkComune(c, istat); err != nil {
		return err
	}
	l, err := s.ledger()
	if err != nil {
		return err
	}
	name := cm.DisplayName("it")
	var buf bytes.Buffer
	sum, err := conservazione.Write(c.UserContext(), &buf, conservazione.Source{
		Archive: s.cfg.Documents.Archive, Log: l, Version: faldone.Version,
		Metadata: func(r *faldone.Record) any { return RecordMetadata(r, name) },
	}, istat, name)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="fascicolo-FAST-`+istat+`.zip"`)
	c.Set("X-Faldone-Checkpoint-Size", strconv.FormatUint(sum.TreeSize, 10))
	c.Set("X-Faldone-Checkpoint-Root", sum.Root)
	return c.Send(buf.Bytes())
}
