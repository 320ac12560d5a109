#include "pipeline_elements.h"

namespace clawvoice::launcher {

void for_each_element_of(GstBin *bin, const char *factory_name, const std::function<void(GstElement *)> &fn)
{
  GstIterator *it = gst_bin_iterate_recurse(bin);
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement *element = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory *factory = gst_element_get_factory(element);
    if (factory && g_str_equal(GST_OBJECT_NAME(factory), factory_name))
      fn(element);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

}  // namespace clawvoice::launcher
