namespace LMIndexer.Core.Data.Synthetic;

/// <summary>A leaf category and the product nouns that belong to it.</summary>
internal sealed record LeafCategory(string Name, string[] Nouns);

/// <summary>A department: its leaves, its descriptive words and its brand name stems.</summary>
internal sealed record Department(string Name, string[] Adjectives, string[] Benefits, string[] BrandStems, LeafCategory[] Leaves, double PriceMedian);

/// <summary>
/// Hand-written vocabularies, one per department, so item texts carry real category signal: a model
/// that reads the text can group items the way the generator did.
/// </summary>
internal static class SyntheticVocabulary
{
    public static readonly Department[] Departments =
    [
        new("Skin Care",
            ["hydrating", "gentle", "brightening", "soothing", "firming", "oil-free", "fragrance-free", "nourishing"],
            ["smooths fine lines", "calms redness", "locks in moisture", "evens skin tone", "clears pores"],
            ["Lumi", "Derma", "Pure", "Velv", "Aqua", "Rosa"],
            [
                new("Moisturizers", ["face cream", "night cream", "day lotion", "gel moisturizer", "eye cream", "balm"]),
                new("Cleansers", ["foaming cleanser", "cleansing oil", "micellar water", "face wash", "exfoliating scrub"]),
                new("Serums", ["vitamin C serum", "retinol serum", "hyaluronic serum", "niacinamide serum", "face oil"]),
                new("Sun Care", ["sunscreen SPF 50", "sunscreen stick", "after-sun gel", "tinted sunscreen", "SPF lip balm"]),
            ],
            24),
        new("Hair Care",
            ["volumizing", "repairing", "sulfate-free", "curl-defining", "smoothing", "color-safe", "strengthening"],
            ["tames frizz", "adds shine", "repairs split ends", "defines curls", "protects from heat"],
            ["Mane", "Silk", "Tress", "Curl", "Vita", "Lock"],
            [
                new("Shampoo", ["shampoo", "dry shampoo", "clarifying shampoo", "purple shampoo"]),
                new("Conditioner", ["conditioner", "leave-in conditioner", "deep conditioner", "hair mask"]),
                new("Styling", ["hair spray", "styling gel", "curl cream", "texture spray", "pomade"]),
                new("Tools", ["hair dryer", "flat iron", "curling wand", "detangling brush", "round brush"]),
            ],
            18),
        new("Makeup",
            ["matte", "long-wear", "shimmer", "buildable", "waterproof", "satin", "velvet"],
            ["lasts all day", "blends easily", "never smudges", "gives full coverage", "adds a natural glow"],
            ["Glam", "Muse", "Blush", "Kohl", "Nova", "Pout"],
            [
                new("Face", ["foundation", "concealer", "setting powder", "primer", "bronzer", "highlighter"]),
                new("Eyes", ["mascara", "eyeliner", "eyeshadow palette", "brow pencil", "lash glue"]),
                new("Lips", ["lipstick", "lip gloss", "lip liner", "lip stain", "lip plumper"]),
                new("Nails", ["nail polish", "top coat", "base coat", "nail file", "cuticle oil"]),
            ],
            16),
        new("Fragrance",
            ["floral", "woody", "citrus", "musky", "fresh", "oriental", "powdery"],
            ["lingers for hours", "opens with bergamot", "dries down to amber", "feels light and clean"],
            ["Aura", "Noir", "Eau", "Scent", "Bloom", "Ambre"],
            [
                new("Women", ["eau de parfum", "perfume oil", "body mist", "eau de toilette"]),
                new("Men", ["cologne", "aftershave", "eau de toilette for men", "beard oil"]),
                new("Home", ["scented candle", "reed diffuser", "room spray", "wax melts"]),
            ],
            45),
        new("Kitchen",
            ["stainless", "nonstick", "cast iron", "dishwasher-safe", "compact", "heavy-duty", "ceramic"],
            ["heats evenly", "cleans up fast", "saves counter space", "holds an edge"],
            ["Chef", "Forge", "Cucina", "Hearth", "Brio", "Ember"],
            [
                new("Cookware", ["frying pan", "saucepan", "stock pot", "dutch oven", "wok", "grill pan"]),
                new("Cutlery", ["chef knife", "paring knife", "bread knife", "knife block", "honing steel"]),
                new("Appliances", ["blender", "toaster", "coffee maker", "air fryer", "stand mixer", "kettle"]),
                new("Bakeware", ["baking sheet", "muffin tin", "cake pan", "loaf pan", "cooling rack"]),
            ],
            40),
        new("Toys",
            ["wooden", "educational", "colorful", "interactive", "plush", "magnetic", "remote-control"],
            ["builds fine motor skills", "sparks imagination", "is safe for toddlers", "lights up and plays music"],
            ["Tot", "Play", "Kido", "Bloco", "Zoom", "Puzzl"],
            [
                new("Building", ["building blocks", "magnetic tiles", "construction set", "marble run"]),
                new("Dolls", ["doll", "dollhouse", "doll stroller", "action figure", "puppet"]),
                new("Games", ["board game", "card game", "jigsaw puzzle", "memory game", "trivia game"]),
                new("Outdoor Play", ["kite", "water blaster", "scooter", "jump rope", "sand set"]),
            ],
            22),
    ];

    public static readonly string[] Variants = ["travel size", "2 pack", "value size", "mini", "deluxe", "set of 3", "refill", "limited edition"];
    public static readonly string[] BrandSuffixes = ["ora", "lab", "ique", "co", "ella", "ist", "worx", "ly"];
}
