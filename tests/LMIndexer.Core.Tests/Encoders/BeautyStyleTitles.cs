namespace LMIndexer.Core.Tests.Encoders;

/// <summary>
/// Product titles in the style of the Beauty catalog, for tests of the packaged encoders (written
/// here; the benchmark data stays out of the repository).
/// </summary>
public static class BeautyStyleTitles
{
    public static readonly string[] All =
    [
        "OPI Nail Lacquer, Big Apple Red, 0.5 fl oz",
        "Neutrogena Hydro Boost Water Gel Face Moisturizer, 1.7 Fl. Oz.",
        "Maybelline New York Great Lash Washable Mascara, Blackest Black, 0.43 Fl Oz (Pack of 2)",
        "Revlon One-Step Hair Dryer and Volumizer Hot Air Brush",
        "Cetaphil Gentle Skin Cleanser",
        "Burt's Bees 100% Natural Moisturizing Lip Balm, Original Beeswax with Vitamin E & Peppermint Oil - 4 Tubes",
        "CeraVe SA Smoothing Cream for Dry Skin, 12 oz",
        "tweezers",
    ];
}
